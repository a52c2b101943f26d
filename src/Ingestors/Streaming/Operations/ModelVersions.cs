using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>The gauge reaseq_model_version{role, model}: the latest version each role reported for each model.</summary>
internal sealed class ModelVersions
{
    private readonly ConcurrentDictionary<(string Role, string Model), long> _versions = new();

    public ModelVersions(Meter meter) =>
        meter.CreateObservableGauge("reaseq_model_version", () => _versions.Select(kv =>
                new Measurement<long>(kv.Value, new("role", kv.Key.Role), new("model", kv.Key.Model))),
            "{version}", "Version of each model a role currently uses");

    public void Report(string role, string model, long version) => _versions[(role, model)] = version;
}
