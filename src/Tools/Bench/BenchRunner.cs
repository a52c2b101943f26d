using ReaSeq.Host;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReaSeq.Tools.Bench;

/// <summary>`reaseq bench [NAME ...]`: runs the benchmarks and writes bench/results/NAME.json for each.</summary>
public static class BenchRunner
{
    public static IReadOnlyList<IBenchmark> All() =>
        typeof(BenchRunner).Assembly.GetTypes()
            .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

    public static async Task<int> ExecuteAsync(CliArgs args, CancellationToken ct)
    {
        var all = All();
        var selected = args.Positional.Count == 0 ? all : all.Where(b => args.Positional.Contains(b.Name)).ToList();
        if (selected.Count == 0) return Cli.Fail($"No benchmark named {string.Join(", ", args.Positional)} (known: {string.Join(", ", all.Select(b => b.Name))})");
        var output = args.Get("out") ?? Path.Combine("bench", "results");
        Directory.CreateDirectory(output);
        foreach (var bench in selected)
        {
            Console.Error.WriteLine($"bench {bench.Name}: running…");
            var figures = await bench.RunAsync(ct);
            figures["machine"] = Machine();
            figures["command"] = $"make bench (reaseq bench {bench.Name})";
            figures["finished_utc"] = DateTime.UtcNow.ToString("O");
            var json = figures.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            await File.WriteAllTextAsync(Path.Combine(output, bench.Name + ".json"), json + "\n", ct);
            Console.WriteLine($"== {bench.Name}\n{json}");
        }
        return 0;
    }

    private static string Machine()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memGb = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024);
        return $"{Environment.ProcessorCount} cores ({cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}), {memGb:F0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }
}
