using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Tests.Sequence;

namespace ReaSeq.Tests.SequenceStreaming;

/// <summary>The sequence role's direct writer produces the bytes the Avro library writes for the same update.</summary>
public sealed class SequenceUpdateWriterTests
{
    [Fact]
    public void Writes_the_same_bytes_as_the_Avro_library_for_every_variant_and_window()
    {
        var random = new Random(17);
        var model = SequenceTestData.TrainedModel(knownItems: 30, seed: 3);
        var options = new SequenceDetectorOptions { WindowSize = 12, BasketToleranceMs = 0, TemporalWarmupGaps = 5, TemporalRefreshEvery = 5, InitialTemporalThresholdMs = 400, LearnOnline = false };
        using var detector = new SequenceDetector(options, model);
        string?[] categories = ["toys", "garden", "kitchen", null, "été > jardin"];
        var time = new Dictionary<int, long>();
        for (var n = 0; n < 600; n++)
        {
            var user = random.Next(15);
            var ts = time[user] = time.GetValueOrDefault(user, 1_000_000) + random.Next(0, 2_000);
            detector.Process(new SequenceClick($"u{user}", $"e{n}", SequenceTestData.Item(random.Next(40)), ts, categories[random.Next(categories.Length)]));
        }

        var serde = new AvroSerde<SequenceUpdate>();
        var writer = new SequenceUpdateWriter(serde.Header.ToArray());
        var compared = 0;
        var withGaps = 0;
        var withLabels = 0;
        foreach (var user in detector.Users)
        {
            foreach (var variant in Enum.GetValues<DetectionVariant>())
            {
                var expected = serde.Serialize(SequenceProcessor.ToContract(user, variant));
                Assert.Equal(expected, writer.Write(user, variant));
                var update = serde.Deserialize(expected);
                withGaps += update.Gaps.Count > 0 ? 1 : 0;
                withLabels += update.LabeledPositions.Count > 0 ? 1 : 0;
                compared++;
            }
        }
        // The comparison covered windows with gaps of every kind and with labeled positions, not only empty arrays.
        Assert.Equal(15 * 4, compared);
        Assert.True(withGaps > 10 && withLabels > 10, $"{withGaps} updates with gaps, {withLabels} with labels");
    }

    [Fact]
    public void A_frozen_user_stays_as_it_was_while_the_detector_changes_a_copy()
    {
        using var detector = new SequenceDetector(new SequenceDetectorOptions { LearnOnline = false }, SequenceTestData.TrainedModel(knownItems: 10, seed: 1));
        detector.Process(new SequenceClick("u", "e1", SequenceTestData.Item(1), 1_000, "toys"));
        var held = detector.GetUser("u")!;
        var before = held.ToSnapshot();
        held.Frozen = true;

        detector.Process(new SequenceClick("u", "e2", SequenceTestData.Item(2), 2_000, "toys"));

        Assert.Equal(before, held.ToSnapshot());
        var current = detector.GetUser("u")!;
        Assert.NotSame(held, current);
        Assert.Equal(2, current.Count);
        Assert.False(current.Frozen);
        // A user no write holds changes in place (no copy per click).
        detector.Process(new SequenceClick("u", "e3", SequenceTestData.Item(3), 3_000, "toys"));
        Assert.Same(current, detector.GetUser("u"));
    }
}
