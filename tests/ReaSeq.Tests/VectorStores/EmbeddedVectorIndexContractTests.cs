using ReaSeq.Contracts.Stores;
using ReaSeq.Processors.VectorStores;

namespace ReaSeq.Tests.VectorStores;

/// <summary>The contract for the embedded index as configured by default (quantised candidates, exact rescoring).</summary>
public class EmbeddedVectorIndexContractTests : VectorStoreContract
{
    protected virtual bool QuantizedCandidateSearch => true;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "reaseq-vector-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IVectorStore> CreateEmptyStoreAsync(int dimension) =>
        Task.FromResult<IVectorStore>(new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions
        {
            Dimension = dimension,
            Path = Path.Combine(_directory, $"{Guid.NewGuid():N}.rsvi"),
            InitialCapacity = 2, // small, so the contract tests also exercise capacity doubling
            QuantizedCandidateSearch = QuantizedCandidateSearch,
        }));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private EmbeddedVectorIndexOptions OptionsAt(string fileName, int dimension = 32) =>
        new() { Dimension = dimension, Path = Path.Combine(_directory, fileName), QuantizedCandidateSearch = QuantizedCandidateSearch };

    private static async Task<List<VectorPoint>> FillAsync(IVectorStore store, int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var points = Enumerable.Range(0, count)
            .Select(i => new VectorPoint($"item-{i}", RandomVector(random, dimension), Payload(("bucket", (i % 4).ToString()), ("name", $"n{i}"))))
            .ToList();
        await store.UpsertAsync(points);
        return points;
    }

    [Fact]
    public async Task A_reloaded_index_answers_searches_exactly_as_before()
    {
        var options = OptionsAt("roundtrip.rsvi");
        var random = new Random(3);
        var queries = Enumerable.Range(0, 8)
            .Select(i => new VectorQuery(RandomVector(random, 32), 10, i % 2 == 0 ? PayloadFilter.Equal("bucket", "1") : null))
            .ToList();
        IReadOnlyList<IReadOnlyList<VectorHit>> before;
        await using (var index = new EmbeddedVectorIndex(options))
        {
            await FillAsync(index, 500, 32, seed: 11);
            await index.DeleteAsync(["item-0", "item-250"]); // the file must reflect swap-removes
            before = await index.SearchBatchAsync(queries);
        }

        Assert.True(File.Exists(options.Path));
        Assert.False(File.Exists(options.Path + ".tmp"));
        await using var reloaded = new EmbeddedVectorIndex(options);
        var after = await reloaded.SearchBatchAsync(queries);

        Assert.Equal(498, await reloaded.CountAsync());
        Assert.Null(await reloaded.GetAsync("item-250"));
        Assert.Equal("n7", (await reloaded.GetAsync("item-7"))!.Payload["name"]);
        for (int i = 0; i < queries.Count; i++)
        {
            Assert.Equal(before[i].Select(hit => (hit.Id, hit.Score)), after[i].Select(hit => (hit.Id, hit.Score)));
        }
    }

    [Fact]
    public async Task FlushAsync_writes_the_file_and_the_interval_flush_catches_later_writes()
    {
        var options = OptionsAt("interval.rsvi", dimension: 8);
        options.FlushInterval = TimeSpan.FromMilliseconds(50);
        await using var index = new EmbeddedVectorIndex(options);
        await FillAsync(index, 10, 8, seed: 5);
        await index.FlushAsync();
        Assert.Equal(10, await CountOnDiskAsync(options));

        await index.UpsertAsync([new VectorPoint("late", [1, 0, 0, 0, 0, 0, 0, 0])]);

        // The background flush runs every 50 ms; allow generous time on a busy machine.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await CountOnDiskAsync(options) != 11 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal(11, await CountOnDiskAsync(options));
    }

    private static async Task<int> CountOnDiskAsync(EmbeddedVectorIndexOptions options)
    {
        // Load a copy of the file as it is on disk right now, without touching the live index.
        var copy = options.Path + ".copy";
        File.Copy(options.Path!, copy, overwrite: true);
        long count;
        await using (var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = options.Dimension, Path = copy }))
        {
            count = await index.CountAsync();
        }

        File.Delete(copy);
        return (int)count;
    }

    [Theory]
    [InlineData("flipped-vector-byte", "checksum")]
    [InlineData("truncated", "truncated")]
    [InlineData("wrong-magic", "magic")]
    [InlineData("wrong-version", "version")]
    public async Task A_corrupted_file_is_refused_with_a_clear_error(string damage, string expectedReason)
    {
        var options = OptionsAt($"{damage}.rsvi");
        await using (var index = new EmbeddedVectorIndex(options))
        {
            await FillAsync(index, 50, 32, seed: 2);
        }

        var bytes = await File.ReadAllBytesAsync(options.Path!);
        switch (damage)
        {
            case "flipped-vector-byte":
                bytes[24 + 1000] ^= 0x40;
                break;
            case "truncated":
                bytes = bytes[..(bytes.Length / 2)];
                break;
            case "wrong-magic":
                bytes[0] = (byte)'X';
                break;
            case "wrong-version":
                bytes[8] = 99;
                break;
        }

        await File.WriteAllBytesAsync(options.Path!, bytes);

        var error = Assert.Throws<InvalidDataException>(() => new EmbeddedVectorIndex(options));
        Assert.Contains(options.Path!, error.Message);
        Assert.Contains(expectedReason, error.Message);
    }

    [Fact]
    public async Task A_file_of_another_dimension_is_refused()
    {
        var options = OptionsAt("dimension.rsvi", dimension: 16);
        await using (var index = new EmbeddedVectorIndex(options))
        {
            await FillAsync(index, 5, 16, seed: 1);
        }

        var error = Assert.Throws<InvalidDataException>(
            () => new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = 32, Path = options.Path }));
        Assert.Contains("16-dimensional", error.Message);
        Assert.Contains("32", error.Message);
    }

    [Fact]
    public async Task Concurrent_writers_and_readers_leave_a_consistent_index()
    {
        await using var index = new EmbeddedVectorIndex(new EmbeddedVectorIndexOptions { Dimension = 16, InitialCapacity = 4 });
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            var random = new Random(writer);
            for (int i = 0; i < 200; i++)
            {
                await index.UpsertAsync([new VectorPoint($"w{writer}-{i}", RandomVector(random, 16), Payload(("writer", writer.ToString())))]);
                if (i % 10 == 9)
                {
                    await index.DeleteAsync([$"w{writer}-{i - 5}"]);
                }
            }
        }));
        var readers = Enumerable.Range(0, 2).Select(reader => Task.Run(async () =>
        {
            var random = new Random(100 + reader);
            for (int i = 0; i < 200; i++)
            {
                var hits = await index.SearchAsync(RandomVector(random, 16), 5, PayloadFilter.Equal("writer", "1"));
                Assert.All(hits, hit => Assert.Equal("1", hit.Payload["writer"]));
            }
        }));

        await Task.WhenAll(writers.Concat(readers));

        Assert.Equal(4 * (200 - 20), await index.CountAsync());
        for (int writer = 0; writer < 4; writer++)
        {
            var own = await index.SearchAsync(Enumerable.Repeat(1f, 16).ToArray(), 1000, PayloadFilter.Equal("writer", writer.ToString()));
            Assert.Equal(180, own.Count);
        }
    }
}

/// <summary>The same contract on the plain float scan (the path used where AVX2 is missing).</summary>
public sealed class EmbeddedVectorIndexFloatScanContractTests : EmbeddedVectorIndexContractTests
{
    protected override bool QuantizedCandidateSearch => false;
}
