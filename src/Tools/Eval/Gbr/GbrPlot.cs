namespace ReaSeq.Tools.Eval.Gbr;

/// <summary>Grouped bar charts of the GBR results (ScottPlot).</summary>
public static class GbrPlot
{
    /// <summary>
    /// One group per category, one bar per series inside it; values in percent. NaN bars are drawn as 0 and the
    /// caller says so in the title or legend.
    /// </summary>
    public static void Bars(string path, string title, string yLabel, IReadOnlyList<string> categories, IReadOnlyList<(string Label, IReadOnlyList<double> Values)> series)
    {
        ArgumentNullException.ThrowIfNull(categories);
        ArgumentNullException.ThrowIfNull(series);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var plot = new ScottPlot.Plot();
        double width = 0.8 / series.Count;
        for (int s = 0; s < series.Count; s++)
        {
            var positions = categories.Select((_, c) => c + (s - (series.Count - 1) / 2.0) * width).ToArray();
            var values = series[s].Values.Select(v => double.IsFinite(v) ? v : 0).ToArray();
            var bars = plot.Add.Bars(positions, values);
            bars.LegendText = series[s].Label;
            bars.Color = ScottPlot.Palette.Default.GetColor(s);
            foreach (var bar in bars.Bars) bar.Size = width * 0.9;
        }
        plot.Axes.Bottom.SetTicks(categories.Select((_, c) => (double)c).ToArray(), [.. categories]);
        plot.Axes.Margins(bottom: 0);
        plot.YLabel(yLabel);
        plot.Title(title);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        plot.SavePng(path, 1000, 560);
    }
}
