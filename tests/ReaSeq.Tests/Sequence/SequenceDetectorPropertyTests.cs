using CsCheck;
using ReaSeq.Processors.Sequence;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Tests.Sequence;

public sealed class SequenceDetectorPropertyTests
{
    private const int KnownItems = 30;

    // Models are frozen during these checks, so one trained instance serves every iteration.
    private static readonly SwingCooccurrenceModel FrozenModel = SequenceTestData.TrainedModel(KnownItems, seed: 11);

    private static readonly Gen<(int, int, int, int, int)[]> Steps =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, KnownItems + 5], Gen.Int[0, 4], Gen.Int[0, 9], Gen.Int[0, 2000]).Array[0, 160];

    private static readonly Gen<SequenceDetectorOptions> FrozenOptions =
        Gen.Select(Gen.Int[1, 3], Gen.Int[0, 8], Gen.Int[1, 12], Gen.Int[1, 6], Gen.Int[0, 3], Gen.Int[0, 1], Gen.Int[0, 3])
            .Select((context, extraWindow, dedup, kappa, theta, threshold, variant) => new SequenceDetectorOptions
            {
                ContextLength = context,
                WindowSize = context + 2 + extraWindow,
                DeduplicationCapacity = dedup,
                RankThreshold = kappa,
                LabelThreshold = new[] { -0.5, 0.0, 0.5, 1.0 }[theta],
                FixedTemporalThresholdMs = threshold == 0 ? 500 : 1500,
                BasketToleranceMs = threshold == 0 ? 0 : 300,
                OutOfOrderToleranceMs = 1000,
                Variant = (DetectionVariant)variant,
                LearnOnline = false,
            });

    [Fact]
    public void Incremental_detection_agrees_with_batch_recomputation_over_the_final_sequences()
    {
        Gen.Select(Steps, FrozenOptions).Sample((steps, options) =>
        {
            var clicks = SequenceTestData.Stream(steps);
            using var detector = new SequenceDetector(options, FrozenModel);
            var statuses = clicks.Select(c => detector.Process(c).Status).ToList();
            var reference = BatchReference.Run(clicks, options, FrozenModel);

            Assert.Equal(reference.Statuses, statuses);
            foreach (var (userId, expected) in reference.Users)
            {
                var user = detector.GetUser(userId)!;
                Assert.Equal(expected.Count, user.AcceptedEvents);
                Assert.Equal(Math.Min(expected.Count, options.WindowSize), user.Count);
                for (var i = 0; i < user.Count; i++)
                {
                    var actual = user[i];
                    var want = expected[(int)user.Offset + i];
                    Assert.Equal(want.Click.EventId, actual.EventId);
                    Assert.Equal(want.HasTransition, actual.Incoming.HasValue);
                    if (actual.Incoming is { } transition)
                    {
                        Assert.Equal(want.DeltaMs, transition.DeltaMs);
                        Assert.Equal(want.Reasons, transition.Reasons);
                        Assert.Equal(want.Prediction.Rank, transition.Rank);
                        Assert.Equal(want.Prediction.Status, transition.RankStatus);
                        Assert.Equal(want.Prediction.LogProbability, transition.LogProbability);
                        Assert.Equal(options.FixedTemporalThresholdMs, transition.ThresholdMs);
                    }
                    Assert.Equal(BitConverter.DoubleToInt64Bits(want.LabelDelta), BitConverter.DoubleToInt64Bits(actual.LabelDelta));
                    Assert.Equal(want.Labeled, actual.IsLabeled);
                }
            }

            // Statistics cover evicted decisions too, so they must match the batch over whole sequences.
            var stats = detector.GetStatistics();
            Assert.Equal(reference.Transitions, stats.Transitions);
            for (var v = 0; v < 4; v++) Assert.Equal(reference.GapsPerVariant[v], stats.For((DetectionVariant)v).Gaps);
            Assert.Equal(reference.LabelCandidates, stats.LabelCandidates);
            Assert.Equal(reference.Labeled, stats.LabeledPositions);
            Assert.Equal(reference.Statuses.Count(s => s == ClickStatus.Duplicate), stats.Duplicates);
            Assert.Equal(reference.Statuses.Count(s => s == ClickStatus.RejectedTooLate), stats.RejectedTooLate);
            Assert.Equal(reference.Statuses.Count(s => s == ClickStatus.RejectedOutsideWindow), stats.RejectedOutsideWindow);
        }, iter: 400, threads: 1);
    }

    [Fact]
    public void Generated_streams_exercise_every_branch()
    {
        // Guards the property above against a generator that never reaches the interesting cases.
        var seen = new HashSet<ClickStatus>();
        var reasons = GapReasonFlags.None;
        var statuses = new HashSet<RankStatus>();
        var labeled = 0L;
        Gen.Select(Steps, FrozenOptions).Sample((steps, options) =>
        {
            using var detector = new SequenceDetector(options, FrozenModel);
            foreach (var click in SequenceTestData.Stream(steps))
            {
                var result = detector.Process(click);
                seen.Add(result.Status);
                if (result.Transition is { } t)
                {
                    reasons |= t.Reasons;
                    statuses.Add(t.RankStatus);
                }
            }
            labeled += detector.GetStatistics().LabeledPositions;
        }, iter: 200, threads: 1);
        Assert.Superset(new HashSet<ClickStatus> { ClickStatus.Accepted, ClickStatus.AcceptedOutOfOrder, ClickStatus.Duplicate, ClickStatus.RejectedTooLate, ClickStatus.RejectedOutsideWindow }, seen);
        Assert.Equal(GapReasonFlags.Temporal | GapReasonFlags.Category | GapReasonFlags.Rank, reasons);
        Assert.Superset(new HashSet<RankStatus> { RankStatus.Ranked, RankStatus.UnknownItem, RankStatus.OutsideCandidates }, statuses);
        Assert.True(labeled > 0);
    }

    [Fact]
    public void Snapshot_restore_and_continue_equals_an_uninterrupted_run()
    {
        var options = Gen.Select(Gen.Int[1, 3], Gen.Int[0, 6], Gen.Int[1, 12]).Select((context, extra, dedup) => new SequenceDetectorOptions
        {
            ContextLength = context,
            WindowSize = context + 2 + extra,
            DeduplicationCapacity = dedup,
            RankThreshold = 3,
            OutOfOrderToleranceMs = 1000,
            // Data-driven T with a short warm-up, so the sketch state matters across the cut.
            TemporalWarmupGaps = 5,
            TemporalRefreshEvery = 3,
            LearnOnline = true,
        });
        Gen.Select(Steps, options, Gen.Double[0, 1]).Sample((steps, detectorOptions, cutAt) =>
        {
            var clicks = SequenceTestData.Stream(steps);
            var cut = (int)(cutAt * clicks.Count);
            var modelOptions = new SwingModelOptions { MaxNeighbours = 6, TopNeighbours = 4, CoOccurrenceWindow = 3, CacheRefreshEvery = 2, HalfLifeMs = 5_000 };

            var straightModel = new SwingCooccurrenceModel(modelOptions);
            using var straight = new SequenceDetector(detectorOptions, straightModel);
            var expected = clicks.Select(c => Describe(straight.Process(c))).ToList();

            var firstModel = new SwingCooccurrenceModel(modelOptions);
            using var first = new SequenceDetector(detectorOptions, firstModel);
            var actual = clicks.Take(cut).Select(c => Describe(first.Process(c))).ToList();
            var modelBytes = Bytes(firstModel.WriteSnapshot);
            var detectorBytes = Bytes(first.WriteSnapshot);

            var resumedModel = new SwingCooccurrenceModel(modelOptions);
            resumedModel.RestoreSnapshot(new MemoryStream(modelBytes));
            using var resumed = new SequenceDetector(detectorOptions, resumedModel);
            resumed.RestoreSnapshot(new MemoryStream(detectorBytes));
            actual.AddRange(clicks.Skip(cut).Select(c => Describe(resumed.Process(c))));

            Assert.Equal(expected, actual);
            Assert.Equal(Bytes(straightModel.WriteSnapshot), Bytes(resumedModel.WriteSnapshot));
            Assert.Equal(Bytes(straight.WriteSnapshot), Bytes(resumed.WriteSnapshot));
        }, iter: 200, threads: 1);
    }

    [Fact]
    public void Per_user_snapshots_with_the_threshold_sketch_and_model_resume_identically()
    {
        Gen.Select(Steps, Gen.Double[0, 1]).Sample((steps, cutAt) =>
        {
            var options = new SequenceDetectorOptions { ContextLength = 2, WindowSize = 6, DeduplicationCapacity = 4, RankThreshold = 2, OutOfOrderToleranceMs = 1000, TemporalWarmupGaps = 4, TemporalRefreshEvery = 2 };
            var clicks = SequenceTestData.Stream(steps);
            var cut = (int)(cutAt * clicks.Count);

            var straightModel = new SwingCooccurrenceModel();
            using var straight = new SequenceDetector(options, straightModel);
            foreach (var click in clicks.Take(cut)) straight.Process(click);
            var expectedTail = clicks.Skip(cut).Select(c => Describe(straight.Process(c))).ToList();

            var firstModel = new SwingCooccurrenceModel();
            using var first = new SequenceDetector(options, firstModel);
            foreach (var click in clicks.Take(cut)) first.Process(click);
            // What a store would persist: the rows of changed users, the sketch and the model.
            var rows = first.TakeChangedUsers().Select(u => first.SnapshotUser(u)!).ToList();
            var sketch = Bytes(first.WriteThresholdSnapshot);
            var model = Bytes(firstModel.WriteSnapshot);
            Assert.Equal(first.UserCount, rows.Count);
            Assert.Empty(first.TakeChangedUsers());

            var resumedModel = new SwingCooccurrenceModel();
            resumedModel.RestoreSnapshot(new MemoryStream(model));
            using var resumed = new SequenceDetector(options, resumedModel);
            resumed.RestoreThresholdSnapshot(new MemoryStream(sketch));
            foreach (var row in rows) resumed.RestoreUser(row);
            var actualTail = clicks.Skip(cut).Select(c => Describe(resumed.Process(c))).ToList();

            Assert.Equal(expectedTail, actualTail);
        }, iter: 150, threads: 1);
    }

    private static byte[] Bytes(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        return stream.ToArray();
    }

    private static string Describe(ClickResult result)
    {
        if (!result.IsAccepted) return result.Status.ToString();
        var user = result.Sequence!;
        var changed = string.Join(";", Enumerable.Range(result.FirstChanged, result.LastChanged - result.FirstChanged + 1).Select(i => user[i]).Select(e =>
            $"{e.EventId}:{e.Incoming}:{BitConverter.DoubleToInt64Bits(e.LabelDelta)}:{e.IsLabeled}"));
        return $"{result.Status}@{result.Position}+{user.Offset}[{changed}]";
    }
}
