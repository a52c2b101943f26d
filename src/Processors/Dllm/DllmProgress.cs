using System.Diagnostics;
using System.Globalization;

namespace ReaSeq.Processors.Dllm;

/// <summary>What a replay shows and summarises about the dllm role: its lag, and fills, model version and IB metrics.</summary>
public sealed class DllmProgress(DllmCollector collector, DllmFiller filler, DllmTrainer trainer, DllmStore store, DllmTrainerOptions trainerOptions)
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// SequenceUpdates not yet filled, or null while no model exists (the filling job then waits and the replay must
    /// not wait for it, nor hold back publishing).
    /// </summary>
    public long? Lag(long sequenceUpdates) => filler.ModelVersion > 0 ? Math.Max(0, sequenceUpdates - filler.Consumed) : null;

    /// <summary>The live progress row.</summary>
    public string Row() => string.Create(Inv,
        $"{filler.Published:N0} published, {filler.Fills:N0} fills, {(filler.ModelVersion > 0 ? DllmModelVersion.Label(filler.ModelVersion) : "no model yet")}");

    /// <summary>
    /// Once every other role caught up: trains a first version now if none exists and enough windows are kept, then
    /// waits (at most <paramref name="timeout"/>) until the filling job has handled every SequenceUpdate.
    /// </summary>
    public async Task CatchUpAsync(long sequenceUpdates, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (collector.Consumed < sequenceUpdates && clock.Elapsed < timeout) await Task.Delay(200, ct);
        while (await store.LatestAsync(ct) is null && clock.Elapsed < timeout)
        {
            if (await trainer.TrainIfDueAsync(force: true, ct) is null && await store.LatestAsync(ct) is null)
            {
                // Another run holds the trainer lock (wait for it), or too few windows (give up).
                if (await store.CountWindowsAsync(ct) < trainerOptions.MinTrainingWindows) return;
                await Task.Delay(500, ct);
            }
        }
        while (filler.Consumed < sequenceUpdates && clock.Elapsed < timeout) await Task.Delay(200, ct);
    }

    /// <summary>Summary rows: fills published, the newest version and its held-out §4.2.1 metrics.</summary>
    public async Task<IReadOnlyList<(string Name, string Value)>> SummaryAsync(CancellationToken ct)
    {
        var rows = new List<(string, string)>
        {
            ("dllm fills", string.Create(Inv,
                $"{filler.Published:N0} AugmentedSequences with {filler.Fills:N0} filled positions, {filler.DeadLettered:N0} dead-lettered, newest version used {(filler.ModelVersion > 0 ? DllmModelVersion.Label(filler.ModelVersion) : "none")}")),
        };
        var windows = await store.CountWindowsAsync(ct);
        if (await store.LatestAsync(ct) is not { } latest)
        {
            rows.Add(("dllm model", string.Create(Inv, $"no model yet: {windows:N0} labeled windows kept, {trainerOptions.MinTrainingWindows:N0} needed")));
            return rows;
        }
        rows.Add(("dllm model", string.Create(Inv,
            $"{latest.Name}: trained on {latest.TrainingWindows:N0} of {windows:N0} kept windows, {latest.Steps:N0} steps in {latest.Metric("train_seconds"):F1} s")));
        rows.Add(("dllm IB-ACC / IB-PPL", string.Create(Inv,
            $"[MASK] {Format(latest.Metric("mask_ib_acc"), "F3")} / {Format(latest.Metric("mask_ib_ppl"), "F2")}, [FILL] {Format(latest.Metric("fill_ib_acc"), "F3")} / {Format(latest.Metric("fill_ib_ppl"), "F2")} on {latest.Metric("heldout_sequences"):F0} held-out sequences (batch size {trainerOptions.BatchSize})")));
        return rows;
    }

    private static string Format(double value, string format) => double.IsFinite(value) ? value.ToString(format, Inv) : "n/a";
}
