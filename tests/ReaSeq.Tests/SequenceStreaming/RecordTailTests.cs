using Confluent.Kafka;
using ReaSeq.Processors.Sequence.Streaming;

namespace ReaSeq.Tests.SequenceStreaming;

/// <summary>The compact tail a restore re-applies gives back exactly the records it was given, across chunk reuse.</summary>
public sealed class RecordTailTests
{
    [Fact]
    public void The_records_from_an_offset_come_back_as_consumed_after_any_removals()
    {
        var random = new Random(5);
        var tail = new RecordTail("clicks");
        var kept = new List<ConsumeResult<byte[]?, byte[]?>>();
        long offset = 100;
        for (var round = 0; round < 6; round++)
        {
            // Values up to 40 KB, sometimes 1.5 MB (a chunk of its own), null keys and values now and then.
            for (var i = 0; i < 400; i++)
            {
                var valueLength = i == 7 ? 1_500_000 : random.Next(0, 40_000);
                var record = new ConsumeResult<byte[]?, byte[]?>
                {
                    TopicPartitionOffset = new TopicPartitionOffset("clicks", 3, offset),
                    Message = new Message<byte[]?, byte[]?>
                    {
                        Key = i % 11 == 0 ? null : Bytes(random, random.Next(1, 20)),
                        Value = i % 13 == 0 ? null : Bytes(random, valueLength),
                        Timestamp = new Timestamp(1_700_000_000_000 + offset, TimestampType.CreateTime),
                    },
                };
                offset += 1 + random.Next(2); // compacted or transactional logs skip offsets
                tail.Add(record);
                kept.Add(record);
            }
            // A checkpoint covers a prefix: drop it (sometimes everything).
            var durable = round == 3 ? offset : kept[random.Next(kept.Count)].Offset.Value;
            tail.RemoveBefore(durable);
            kept.RemoveAll(r => r.Offset.Value < durable);
            Assert.Equal(kept.Count, tail.Count);

            var from = kept.Count == 0 ? offset : kept[random.Next(kept.Count)].Offset.Value;
            var expected = kept.Where(r => r.Offset.Value >= from).ToList();
            var actual = tail.From(from, 3);
            Assert.Equal(expected.Count, actual.Count);
            for (var i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].TopicPartitionOffset, actual[i].TopicPartitionOffset);
                Assert.Equal(expected[i].Message.Key, actual[i].Message.Key);
                Assert.Equal(expected[i].Message.Value, actual[i].Message.Value);
                Assert.Equal(expected[i].Message.Timestamp, actual[i].Message.Timestamp);
            }
        }
    }

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
