using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Trainer;

namespace ReaSeq.Tests.Chaos;

/// <summary>The trainer role under SIGKILL (issue 8 G): it resumes from its latest registry version and trains every impression once.</summary>
public sealed partial class ChaosTests
{
    private const string TrainerInput = "impressions.chaos";

    /// <summary>
    /// One `reaseq run --roles trainer` process killed at random points. The trainer has no byte-identical reference (its
    /// versions depend on where mini-batches fall), so the proof is the registry itself: every version's lineage names
    /// its parent, the input offsets its weights trained through and how many impressions it trained since the parent.
    /// Walking the chain from the active version back to the first: per version, the offsets it advanced over its parent
    /// must equal what it trained (more: impressions skipped; fewer or rewound: trained twice), and the last one must end
    /// at the log's end. Each restart must resume from the version that was active when the previous process died.
    /// </summary>
    [Fact]
    public Task Trainer_killed_at_random_points_resumes_from_its_latest_version_and_trains_every_impression_once() =>
        GuardedAsync(new ScenarioResult("sigkill-trainer"), Trainer_killed_at_random_points_resumes_from_its_latest_version_and_trains_every_impression_onceAsync);

    private async Task Trainer_killed_at_random_points_resumes_from_its_latest_version_and_trains_every_impression_onceAsync(ScenarioResult result, Stopwatch clock)
    {
        await using var platform = await TestPlatform.StartAsync(Postgres);
        platform.Broker.CreateTopic(TrainerInput, 6);
        platform.Broker.CreateTopic("ctr.faulted", 1);
        platform.Broker.CreateTopic("augmented.faulted", 6);
        var world = new ChaosWorld(platform);
        const int users = 40, items = 16, slice = 600;
        var kills = ChaosSettings.KillPoints;
        await TrainerWorld.SeedItemsAsync(platform.Db, items);
        await TrainerWorld.SeedUsersAsync(platform.Db, users, items);
        var impressions = TrainerWorld.Impressions((kills + 1) * slice, users, items, seed: 8);
        var db = platform.ConnectionString;
        var environment = TrainerEnvironment(world, db, "faulted");
        var lives = new List<RoleProcess>();
        var activeAtKill = new List<string?>();

        await world.KillLoopAsync(result, ChaosSettings.RandomFor(result.Name), kills,
            _ =>
            {
                var process = RoleProcess.Start("trainer", environment, "sigkill-trainer", world.Folder);
                lives.Add(process);
                return process;
            },
            s =>
            {
                foreach (var impression in impressions.Skip(s * slice).Take(slice)) platform.Producer.Produce(TrainerInput, impression.UserId, impression);
                platform.Producer.Flush();
            },
            async () => (await TrainerRegistryAsync(db)).ActiveThrough,
            async () =>
            {
                var registry = await TrainerRegistryAsync(db);
                activeAtKill.Add(registry.Active?.Version);
                return $"active version {registry.Active?.Version ?? "none"} trained through {registry.ActiveThrough} of {impressions.Count} impressions";
            },
            async () => (await TrainerRegistryAsync(db)).ActiveThrough == impressions.Count, Completion);

        // Each life after a kill started from the version active when the previous one died (the first log line it wrote
        // about it). A life killed during its start-up (the early kill points) may die before it resumed at all; the last one did.
        var resumed = new List<string>();
        var diedStarting = 0;
        for (var life = 1; life < lives.Count; life++)
        {
            var expected = activeAtKill[life - 1] ?? "(none, fresh weights)";
            var line = File.ReadLines(lives[life].LogPath).FirstOrDefault(l => l.Contains("trainer: resumes", StringComparison.Ordinal));
            if (line is null && life < lives.Count - 1)
            {
                diedStarting++;
                continue;
            }
            Assert.True(line is not null, $"the last life never resumed: {lives[life].LogPath}");
            Assert.True(line.Contains($"from version {expected}", StringComparison.Ordinal), $"life {life} should resume from {expected}: {line}");
            resumed.Add(expected);
        }

        var final = await TrainerRegistryAsync(db);
        var chain = final.Chain();
        long trained = 0;
        var previous = new Dictionary<int, long>();
        foreach (var version in chain)
        {
            long advanced = 0;
            foreach (var (partition, next) in version.Offsets)
            {
                var before = previous.GetValueOrDefault(partition);
                if (next < before) result.NonIdenticalDuplicates += before - next; // rewound: trained again
                else advanced += next - before;
            }
            if (advanced > version.TrainedSinceParent) result.RecordsLost += advanced - version.TrainedSinceParent;
            if (advanced < version.TrainedSinceParent) result.NonIdenticalDuplicates += version.TrainedSinceParent - advanced;
            trained += version.TrainedSinceParent;
            previous = version.Offsets;
        }
        var ends = Enumerable.Range(0, 6).ToDictionary(p => p, p => (long)platform.ReadToEnd(TrainerInput).Count(r => r.Partition.Value == p));
        result.RecordsLost += ends.Sum(e => Math.Max(0, e.Value - previous.GetValueOrDefault(e.Key)));
        Assert.Equal(impressions.Count, ends.Values.Sum());
        var orphans = final.Versions.Count - chain.Count;
        result.Notes = $"one trainer process, {impressions.Count} impressions in {kills + 1} slices, a version every second (mini-batches of 32); " +
                       $"registry chain of {chain.Count} versions from the first to the active one ({orphans} rows off the chain), " +
                       $"{trained} impressions trained along it; {resumed.Count} restarts resumed, each from the version active at the kill before it " +
                       $"({string.Join(", ", resumed.Distinct())}), {diedStarting} were killed before they resumed";
        Finish(result, clock);
        Assert.Equal(0, orphans);
        Assert.Equal(impressions.Count, trained);
        Assert.Equal(kills, result.KillPoints);
    }

    private static Dictionary<string, string> TrainerEnvironment(ChaosWorld world, string connectionString, string group) => ChaosWorld.WithKafkaDebug(new()
    {
        ["REASEQ__Kafka__BootstrapServers"] = world.Platform.Broker.BootstrapServers,
        ["REASEQ__Postgres__ConnectionString"] = connectionString,
        ["REASEQ__Kafka__GroupPrefix"] = group,
        ["REASEQ__Trainer__InputTopic"] = TrainerInput,
        ["REASEQ__Trainer__OutputTopic"] = "ctr." + group,
        ["REASEQ__Trainer__AugmentedTopic"] = "augmented." + group,
        ["REASEQ__Trainer__UseAugmentedSequences"] = "false",
        ["REASEQ__Trainer__BatchSize"] = "32",
        ["REASEQ__Trainer__VersionIntervalMs"] = "1000",
        ["REASEQ__Trainer__EvaluationWindow"] = "1000",
        ["REASEQ__Trainer__CpuThreads"] = "1",
        ["REASEQ__Trainer__LeaderRetryMs"] = "500",
        // CtrModelFactory.SmallOptions, as the trainer tests use: the seeded item vectors have 16 dimensions.
        ["REASEQ__Trainer__Model__ItemVectorDim"] = "16",
        ["REASEQ__Trainer__Model__HiddenDim"] = "16",
        ["REASEQ__Trainer__Model__Heads"] = "2",
        ["REASEQ__Trainer__Model__RetrievalTopK"] = "4",
        ["REASEQ__Trainer__Model__InterestAnchors"] = "4",
        ["REASEQ__Trainer__Model__AttentionHiddenDim"] = "16",
        ["REASEQ__Trainer__Model__SidLevels"] = "2",
        ["REASEQ__Trainer__Model__SidCodebookSize"] = "8",
        ["REASEQ__Trainer__Model__MaxHistory"] = "12",
    });

    private sealed record TrainerVersion(string Version, long Seq, string Status, string? Parent, Dictionary<int, long> Offsets, long TrainedSinceParent);

    private sealed record TrainerRegistry(List<TrainerVersion> Versions)
    {
        public TrainerVersion? Active => Versions.SingleOrDefault(v => v.Status == "active");

        public long ActiveThrough => Active?.Offsets.Values.Sum() ?? 0;

        /// <summary>The active version and its ancestors, oldest first.</summary>
        public List<TrainerVersion> Chain()
        {
            var byVersion = Versions.ToDictionary(v => v.Version);
            var chain = new List<TrainerVersion>();
            for (var v = Active; v is not null; v = v.Parent is { } parent ? byVersion.GetValueOrDefault(parent) : null)
            {
                chain.Add(v);
                Assert.True(v.Parent is null || byVersion.ContainsKey(v.Parent), $"{v.Version}'s parent {v.Parent} is not in the registry");
            }
            chain.Reverse();
            return chain;
        }
    }

    private static async Task<TrainerRegistry> TrainerRegistryAsync(string connectionString)
    {
        var rows = await ChaosWorld.RowsAsync(connectionString,
            "select concat_ws(E'\\t', version, seq::text, status, lineage::text) from ctr_models order by seq");
        return new TrainerRegistry(rows.Select(row =>
        {
            var fields = row.Split('\t');
            using var lineage = JsonDocument.Parse(fields[3]);
            var root = lineage.RootElement;
            var offsets = root.GetProperty("input_offsets").EnumerateArray()
                .Where(o => o.GetProperty("topic").GetString() == TrainerInput)
                .ToDictionary(o => o.GetProperty("partition").GetInt32(), o => o.GetProperty("next_offset").GetInt64());
            var parent = root.TryGetProperty("parent", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            return new TrainerVersion(fields[0], long.Parse(fields[1], CultureInfo.InvariantCulture), fields[2], parent, offsets,
                root.GetProperty("trained_since_parent").GetInt64());
        }).ToList());
    }
}
