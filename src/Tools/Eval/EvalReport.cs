using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReaSeq.Tools.Eval;

/// <summary>The Table 1 style output: a console table, a JSON file and a PNG of HR@k per method.</summary>
public static class EvalReport
{
    public static string Table(IReadOnlyList<HitRateResult> results)
    {
        var ks = results[0].PerK.Select(p => p.K).ToList();
        int nameWidth = Math.Max(6, results.Max(r => r.Method.Length));
        var text = new StringBuilder();
        text.Append("Method".PadRight(nameWidth));
        foreach (var k in ks) text.Append($"  {"HR@" + k,8}");
        text.AppendLine($"  {"Macro Recall",12}");
        foreach (var r in results)
        {
            text.Append(r.Method.PadRight(nameWidth));
            foreach (var p in r.PerK) text.Append($"  {Percent(p.HitRate),8}");
            text.AppendLine($"  {Percent(r.MacroRecall),12}");
        }
        return text.ToString();
    }

    /// <summary>Percent with four decimals, as the paper prints its tables.</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("F4", CultureInfo.InvariantCulture);

    public static JsonObject MethodJson(HitRateResult result, string description, JsonObject? extra = null)
    {
        var hr = new JsonObject();
        var macro = new JsonObject();
        foreach (var p in result.PerK)
        {
            hr[$"HR@{p.K}"] = Math.Round(p.HitRate * 100, 4);
            macro[$"@{p.K}"] = Math.Round(p.MacroRecall * 100, 4);
        }
        var json = new JsonObject
        {
            ["method"] = result.Method,
            ["description"] = description,
            ["represented_items"] = result.Represented,
            ["hit_rate_percent"] = hr,
            ["macro_recall_percent_at_k"] = macro,
            ["macro_recall_percent"] = Math.Round(result.MacroRecall * 100, 4),
        };
        if (extra is not null)
            foreach (var (key, value) in extra) json[key] = value?.DeepClone();
        return json;
    }

    public static async Task WriteJsonAsync(string path, JsonObject document, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", ct);
    }

    /// <summary>HR@k against k on a log axis (log10 k plotted, ticks labelled with k).</summary>
    public static void WritePng(string path, IReadOnlyList<HitRateResult> results, string title)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var plot = new ScottPlot.Plot();
        foreach (var r in results)
        {
            var scatter = plot.Add.Scatter(r.PerK.Select(p => Math.Log10(p.K)).ToArray(), r.PerK.Select(p => p.HitRate * 100).ToArray());
            scatter.LegendText = $"{r.Method} (macro recall {Percent(r.MacroRecall)}%)";
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var p in results[0].PerK) ticks.AddMajor(Math.Log10(p.K), p.K.ToString(CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.XLabel("k (nearest neighbours per sequence item, log scale)");
        plot.YLabel("HR@k (%)");
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }
}
