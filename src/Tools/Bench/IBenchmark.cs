using System.Text.Json.Nodes;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// One benchmark of `make bench`. It measures its figures and a baseline in the same run and returns them;
/// the runner adds the machine description and writes bench/results/{Name}.json.
/// </summary>
public interface IBenchmark
{
    /// <summary>File name under bench/results (without .json), e.g. "ingest".</summary>
    string Name { get; }

    Task<JsonObject> RunAsync(CancellationToken cancellationToken);
}
