namespace ReaSeq.Ingestors.Replay.OnlineRetail;

internal static class SplitExtensions
{
    public static string[] SplitWhere(this string text, Func<char, bool> isSeparator)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i < text.Length && !isSeparator(text[i])) continue;
            parts.Add(text[start..i]);
            start = i + 1;
        }
        return [.. parts];
    }
}
