using ReaSeq.Contracts.Knowledge;

namespace ReaSeq.Tools.Eval;

/// <summary>MiniLM of the raw item title: the text baseline without any knowledge.</summary>
public static class TitleVectors
{
    public static IReadOnlyList<float[]?> Compute(ISentenceEncoder encoder, IReadOnlyList<EvalItem> items, CancellationToken ct)
    {
        const int batch = 64;
        var vectors = new float[]?[items.Count];
        var progress = new ProgressReporter("eval title: encoding", items.Count);
        for (int start = 0; start < items.Count; start += batch)
        {
            ct.ThrowIfCancellationRequested();
            var titles = items.Skip(start).Take(batch).Select(i => i.Title).ToArray();
            var encoded = encoder.Encode(titles);
            for (int i = 0; i < encoded.Length; i++) vectors[start + i] = encoded[i];
            progress.Report(start + titles.Length);
        }
        progress.Report(items.Count, final: true);
        return vectors;
    }
}
