using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReaSeq.Tools.Eval;

/// <summary>One line of a plot: a method's rate (a fraction) at each k, with an optional note for the legend.</summary>
public sealed record PlotSeries(string Label, IReadOnlyList<(int K, double Rate)> Points, string? Note);

/// <summary>The Table 1 and 2 style output: console tables, a JSON file and PNGs of HR@k and SM-HR@k per method.</summary>
public static class EvalReport
{
    public static PlotSeries Series(string label, IEnumerable<(int K, double Rate)> points, string? note) => new(label, points.ToList(), note);

    public static string SameProductTable(IReadOnlyList<SameProductResult> results)
    {
        var ks = results[0].PerK.Select(p => p.K).ToList();
        int nameWidth = Math.Max(6, results.Max(r => r.Method.Length));
        var text = new StringBuilder();
        text.Append("Method".PadRight(nameWidth));
        foreach (var k in ks) text.Append($"  {"SM-HR@" + k,10}");
        text.AppendLine();
        foreach (var r in results)
        {
            text.Append(r.Method.PadRight(nameWidth));
            foreach (var p in r.PerK) text.Append($"  {Percent(p.HitRate),10}");
            text.AppendLine();
        }
        return text.ToString();
    }

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

    public static JsonObject MethodJson(HitRateResult result, SameProductResult? sameProduct, string description, JsonObject? extra = null)
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
        if (sameProduct is not null)
        {
            var sm = new JsonObject();
            foreach (var p in sameProduct.PerK) sm[$"SM-HR@{p.K}"] = Math.Round(p.HitRate * 100, 4);
            json["same_product_hit_rate_percent"] = sm;
            json["same_product_queries"] = sameProduct.Queries;
            json["same_product_represented_queries"] = sameProduct.RepresentedQueries;
        }
        if (extra is not null)
            foreach (var (key, value) in extra) json[key] = value?.DeepClone();
        return json;
    }

    public static async Task WriteJsonAsync(string path, JsonObject document, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await File.WriteAllTextAsync(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n", ct);
    }

    /// <summary>A rate against k on a log axis (log10 k plotted, ticks labelled with k).</summary>
    public static void WritePng(string path, IReadOnlyList<PlotSeries> series, string title, string yLabel)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var plot = new ScottPlot.Plot();
        foreach (var s in series)
        {
            var scatter = plot.Add.Scatter(s.Points.Select(p => Math.Log10(p.K)).ToArray(), s.Points.Select(p => p.Rate * 100).ToArray());
            scatter.LegendText = s.Note is null ? s.Label : $"{s.Label} ({s.Note})";
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var p in series[0].Points) ticks.AddMajor(Math.Log10(p.K), p.K.ToString(CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.XLabel("k (nearest neighbours per query item, log scale)");
        plot.YLabel(yLabel);
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }
}
