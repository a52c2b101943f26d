using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using ReaSeq.Host;

namespace ReaSeq.Tools.Bench;

/// <summary>`reaseq-tools bench [NAME ...]`: runs the benchmarks and writes bench/results/NAME.json for each.</summary>
public static class BenchRunner
{
    public static IReadOnlyList<IBenchmark> All() =>
        typeof(BenchRunner).Assembly.GetTypes()
            .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList();

    public static Command Create()
    {
        var names = new Argument<string[]>("name")
        {
            Description = "Benchmarks to run (default: all): " + string.Join(", ", All().Select(b => b.Name)),
            HelpName = "NAME",
            Arity = ArgumentArity.ZeroOrMore,
        };
        names.Validators.Add(r =>
        {
            var known = All().Select(b => b.Name).ToHashSet(StringComparer.Ordinal);
            if (r.Tokens.Select(t => t.Value).FirstOrDefault(n => !known.Contains(n)) is { } unknown)
                r.AddError($"no benchmark named '{unknown}'; known: {string.Join(", ", known.Order(StringComparer.Ordinal))}");
        });
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = "Folder of the NAME.json results",
            HelpName = "DIR",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("bench", "results")),
        };
        var command = new Command("bench", "Run benchmarks against a real PostgreSQL (Postgres:ConnectionString) and the embedded broker; writes bench/results/NAME.json")
        {
            names, output,
        };
        command.SetAction((r, ct) => ExecuteAsync(r.GetValue(names) ?? [], r.GetValue(output)!.FullName, ct));
        return command;
    }

    public static async Task<int> ExecuteAsync(IReadOnlyList<string> names, string output, CancellationToken ct)
    {
        var all = All();
        var selected = names.Count == 0 ? all : all.Where(b => names.Contains(b.Name)).ToList();
        if (selected.Count == 0) throw new UserException($"no benchmark named {string.Join(", ", names)} (known: {string.Join(", ", all.Select(b => b.Name))})");
        Directory.CreateDirectory(output);
        foreach (var bench in selected)
        {
            Console.Error.WriteLine($"bench {bench.Name}: running…");
            var figures = await bench.RunAsync(ct);
            figures["machine"] = Machine();
            figures["command"] = $"make bench (reaseq-tools bench {bench.Name})";
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
