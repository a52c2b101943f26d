using Npgsql;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Streaming;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Sequence;

namespace ReaSeq.Tests.SequenceStreaming;

[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class SharedThresholdStoreTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Two_partitions_merge_their_sketches_through_postgres_and_end_with_the_same_T()
    {
        await using var db = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var options = new SequenceDetectorOptions();
        // Two stores as two processes would have them.
        var (first, second, localFirst, localSecond) = await SequenceGapInputTests.TwoPartitionsFreeze(
            new PostgresGapSketchStore(db, "g", options), new PostgresGapSketchStore(db, "g", options));
        Assert.Equal(first, second);
        Assert.Equal(98, first.Gaps);
        Assert.NotEqual(localFirst, localSecond);
        await using var cmd = db.CreateCommand("select count(*) from sequence_thresholds where consumer_group = 'g' and epoch = 1");
        Assert.Equal(1L, await cmd.ExecuteScalarAsync());
    }
}
