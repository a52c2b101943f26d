using System.Diagnostics.Metrics;
using ReaSeq.Processors.Sequence.Model;

namespace ReaSeq.Processors.Sequence;

/// <summary>
/// The in-memory core of the sequence processor (paper §3.1 and §3.2.1): per user, a bounded window of
/// recent clicks; per click, incremental TD / CD / RANK decisions and self-supervised labels.
/// <para>
/// Determinism: every decision is made with the state <em>before</em> the click (thresholds, model), and
/// only then are the gap sketch and the model updated with it. Decisions are therefore a pure function of
/// (snapshot, input clicks), and replaying the same clicks from the same snapshot gives identical output.
/// </para>
/// <para>
/// Out-of-order policy: a click older than the user's newest event by more than OutOfOrderToleranceMs is
/// rejected (<see cref="ClickStatus.RejectedTooLate"/>). Otherwise it is inserted after every retained event
/// with a timestamp ≤ its own (equal timestamps: Δt = 0, arrival order). Re-evaluation stays local: the
/// transitions into positions k … k+c (TD/CD change only for k and k+1, RANK for those whose context holds
/// the new event) and the labels of positions k−1 … k+c. A full window keeps the context of those positions
/// only from position c+1 on, so an insertion into the first c+1 positions of a full window is rejected
/// (<see cref="ClickStatus.RejectedOutsideWindow"/>). Duplicate event ids (among the user's last
/// DeduplicationCapacity accepted ids) are ignored. A user's first event has no transition.
/// </para>
/// <para>
/// Unknown category (null or empty) on either side: no CD decision (CD does not fire). Without model evidence
/// (the item was never seen, or no context item has neighbours) RANK makes no decision either: it does not fire,
/// and the cause is counted separately (<see cref="RankStatus"/>). An item outside the context's candidates has the
/// exact rank 1 + number of candidates (every candidate scores above it; ties with other unscored items rank
/// optimistically), which RANK compares with κ like any other rank.
/// </para>
/// <para>
/// TD works on baskets: consecutive events of a user at most BasketToleranceMs apart form one basket and are never
/// a TD gap; only gaps between baskets feed the T sketch and are compared with T. T comes from this detector's
/// sketch, or from <see cref="SharedThresholds"/> (one T per domain and epoch for the whole deployment).
/// </para>
/// Not thread-safe: one detector per consumer partition.
/// </summary>
public sealed class SequenceDetector : IDisposable
{
    public const string MeterName = "ReaSeq.Sequence";
    private const string Magic = "RSQD";
    private const int FormatVersion = 2;

    private readonly SequenceDetectorOptions _options;
    private ICollaborativeModel _model;
    private readonly Dictionary<string, UserSequence> _users = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TemporalThreshold> _thresholds = new(StringComparer.Ordinal);
    // Copy-on-write list so the metrics thread can read thresholds while clicks are processed.
    private volatile TemporalThreshold[] _thresholdList = [];
    private readonly List<UserSequence> _changedUsers = [];
    private SequenceStatisticsAccumulator _stats = new();
    private readonly SequenceMetrics _metrics;
    private readonly int[] _context;
    private TemporalThreshold? _lastThreshold;

    public SequenceDetector(SequenceDetectorOptions options, ICollaborativeModel model, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        _options = options;
        _model = model;
        _context = new int[Math.Max(options.ContextLength, model.LearningWindow)];
        _metrics = new SequenceMetrics(meterFactory, ObserveThresholds, ObserveFillRatios, () => _users.Count);
    }

    public SequenceDetectorOptions Options => _options;

    public ICollaborativeModel Model => _model;

    /// <summary>When set, T comes from here (deployment-wide, per epoch); the detector's own sketch still learns and is published.</summary>
    public ITemporalThresholdSource? SharedThresholds { get; set; }

    /// <summary>
    /// Swaps in another collaborative model (e.g. a new version of the global model) and re-resolves every retained
    /// event's item index against it. Decisions already made are kept; later ones use the new model.
    /// </summary>
    public void ReplaceModel(ICollaborativeModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.LearningWindow > _context.Length)
            throw new ArgumentException($"The model learns from {model.LearningWindow} preceding items; this detector was built for {_context.Length}.", nameof(model));
        _model = model;
        foreach (var frozen in _users.Values.Where(u => u.Frozen).ToList()) Thaw(frozen);
        foreach (var user in _users.Values)
        {
            for (var i = 0; i < user.Count; i++)
            {
                ref var entry = ref user.At(i);
                entry = entry with { ItemIndex = model.IndexOf(entry.ItemId) };
            }
        }
    }

    /// <summary>This detector's gap sketch counts per domain (its contribution to the deployment-wide T).</summary>
    public IEnumerable<(string Domain, long[] Counts)> GapSketchCounts() => _thresholdList.Select(t => (t.Domain, t.Sketch.UsedCounts()));

    public int UserCount => _users.Count;

    public UserSequence? GetUser(string userId) => _users.GetValueOrDefault(userId);

    /// <summary>The TD threshold T in force for a domain now.</summary>
    public TemporalThresholdInfo TemporalThreshold(string domain = "") => ThresholdFor(domain).Describe();

    public IReadOnlyList<TemporalThresholdInfo> TemporalThresholds => _thresholdList.Select(t => t.Describe()).ToArray();

    /// <summary>
    /// Processes one click: validates, deduplicates, places it in the user's window, decides its incoming
    /// transition (and re-evaluates the neighbouring decisions it affects), then learns from it.
    /// </summary>
    public ClickResult Process(in SequenceClick click)
    {
        _stats.Received++;
        var invalid = Validate(click);
        if (invalid is not null) return Reject(ClickStatus.RejectedInvalid, invalid);

        if (!_users.TryGetValue(click.UserId, out var user))
        {
            user = new UserSequence(click.UserId, _options.WindowSize, _options.DeduplicationCapacity);
            _users.Add(click.UserId, user);
        }
        user = Thaw(user);
        user.LastTouchedMs = Environment.TickCount64;
        var eventIdHash = UserSequence.HashOf(click.EventId);
        if (user.HasSeen(click.EventId, eventIdHash))
        {
            _stats.Duplicates++;
            _metrics.Event(ClickStatus.Duplicate);
            return ClickResult.Rejected(ClickStatus.Duplicate, $"Event '{click.EventId}' of user '{click.UserId}' was already accepted.");
        }
        if (user.Count > 0 && click.TimestampMs < user.LastTimestampMs - _options.OutOfOrderToleranceMs)
        {
            return Reject(ClickStatus.RejectedTooLate,
                $"Event '{click.EventId}' of user '{click.UserId}' at {click.TimestampMs} ms is {user.LastTimestampMs - click.TimestampMs} ms older than the user's newest event; tolerance is {_options.OutOfOrderToleranceMs} ms.");
        }

        var k = user.InsertionIndex(click.TimestampMs);
        var c = _options.ContextLength;
        if (user.Count == _options.WindowSize && k <= c)
        {
            return Reject(ClickStatus.RejectedOutsideWindow,
                $"Event '{click.EventId}' of user '{click.UserId}' at {click.TimestampMs} ms would land at window position {k}; a full window keeps context only from position {c + 1}.");
        }

        var outOfOrder = k < user.Count;
        user.Insert(k, new WindowEntry(click.EventId, click.ItemId, click.Category, click.Domain, click.TimestampMs, null, double.NaN, false)
        {
            ItemIndex = _model.IndexOf(click.ItemId),
        }, eventIdHash);
        var count = user.Count;

        // Decide with the state before this click.
        var lastTransition = Math.Min(k + c, count - 1);
        for (var m = Math.Max(k, 1); m <= lastTransition; m++) EvaluateTransition(user, m);
        var firstLabel = Math.Max(k - 1, 1);
        var lastLabel = Math.Min(k + c, count - 2);
        var labeledBefore = _stats.Labeled;
        for (var j = firstLabel; j <= lastLabel; j++) EvaluateLabel(user, j);

        // Then learn from it.
        ref var inserted = ref user.At(k);
        if (inserted.Incoming is { } incoming)
        {
            // Only gaps between baskets describe the platform's activity rhythm; lines of one basket would pin T to 0.
            if (incoming.DeltaMs > _options.BasketToleranceMs) ThresholdFor(click.Domain).Observe(incoming.DeltaMs);
            _metrics.NewTransition(incoming);
        }
        if (_options.LearnOnline)
        {
            var preceding = FillContext(user, k, _model.LearningWindow);
            var index = _model.Learn(preceding, click.ItemId, click.TimestampMs, user.AcceptedEvents);
            inserted = inserted with { ItemIndex = index };
        }

        var firstChanged = firstLabel <= lastLabel ? Math.Min(firstLabel, k) : k;
        var lastChanged = Math.Max(k, Math.Max(lastTransition, lastLabel));
        if (user.EvictIfOverfull())
        {
            k--;
            firstChanged--;
            lastChanged--;
        }

        if (!user.Changed)
        {
            user.Changed = true;
            _changedUsers.Add(user);
        }
        var status = outOfOrder ? ClickStatus.AcceptedOutOfOrder : ClickStatus.Accepted;
        _stats.Accepted++;
        if (outOfOrder) _stats.OutOfOrder++;
        _metrics.Event(status);
        _metrics.Labeled(_stats.Labeled - labeledBefore);
        return new ClickResult(status, null, user, k, firstChanged, lastChanged);
    }

    /// <summary>The user to change: itself, or a copy that replaces it when a checkpoint write holds it (<see cref="UserSequence.Frozen"/>).</summary>
    private UserSequence Thaw(UserSequence user)
    {
        if (!user.Frozen) return user;
        var copy = user.Clone();
        _users[user.UserId] = copy;
        if (user.Changed)
        {
            _changedUsers.Remove(user);
            _changedUsers.Add(copy);
        }
        return copy;
    }

    private void EvaluateTransition(UserSequence user, int position)
    {
        ref var current = ref user.At(position);
        ref readonly var previous = ref user[position - 1];
        var delta = current.TimestampMs - previous.TimestampMs;
        var threshold = SharedThresholds?.ThresholdMs(current.Domain, current.TimestampMs) ?? ThresholdFor(current.Domain).CurrentMs;

        var reasons = GapReasonFlags.None;
        // Events of one basket are never a TD gap; between baskets, TD compares the gap with T.
        if (delta > _options.BasketToleranceMs && delta > threshold) reasons |= GapReasonFlags.Temporal;
        if (!string.IsNullOrEmpty(previous.Category) && !string.IsNullOrEmpty(current.Category)
            && !string.Equals(previous.Category, current.Category, StringComparison.Ordinal))
        {
            reasons |= GapReasonFlags.Category;
        }

        var prediction = _model.Predict(FillContext(user, position, _options.ContextLength), current.ItemIndex);
        // No evidence (unknown item, no context neighbours) is no decision, not "rank beyond κ".
        if (prediction.IsRanked && prediction.Rank > _options.RankThreshold) reasons |= GapReasonFlags.Rank;

        var transition = new Transition(delta, threshold, previous.Category, current.Category, prediction.Rank, prediction.Status,
            prediction.LogProbability, reasons, Transition.Combine(reasons));
        if (current.Incoming is { } old) _stats.Count(old, -1);
        _stats.Count(transition, +1);
        current = current with { Incoming = transition };
    }

    private void EvaluateLabel(UserSequence user, int position)
    {
        // Δ = log p(x_{i+1} | x_{i−c+1..i}) − log p(x_{i+1} | the same context without x_i) (§3.2.1). The second
        // context is the first with x_i blanked (-1 contributes nothing; the other items keep their recency weights),
        // not a window shifted back by one, which would bring in x_{i−c}.
        var target = user.ItemIndexAt(position + 1);
        var context = FillContext(user, position + 1, _options.ContextLength);
        var withItem = _model.LogProbability(context, target);
        _context[context.Length - 1] = -1;
        var withoutItem = _model.LogProbability(context, target);
        var delta = withItem - withoutItem;
        var labeled = delta > _options.LabelThreshold;

        ref var entry = ref user.At(position);
        if (!double.IsNaN(entry.LabelDelta)) _stats.CountLabel(entry.IsLabeled, -1);
        _stats.CountLabel(labeled, +1);
        entry = entry with { LabelDelta = delta, IsLabeled = labeled };
    }

    /// <summary>Model indices of the (up to) <paramref name="length"/> events before <paramref name="end"/>, oldest first.</summary>
    private ReadOnlySpan<int> FillContext(UserSequence user, int end, int length)
    {
        var start = Math.Max(0, end - length);
        for (var i = start; i < end; i++) _context[i - start] = user.ItemIndexAt(i);
        return _context.AsSpan(0, end - start);
    }

    private TemporalThreshold ThresholdFor(string domain)
    {
        if (_lastThreshold is not null && string.Equals(_lastThreshold.Domain, domain, StringComparison.Ordinal)) return _lastThreshold;
        if (!_thresholds.TryGetValue(domain, out var threshold))
        {
            threshold = new TemporalThreshold(domain, _options);
            _thresholds.Add(domain, threshold);
            _thresholdList = [.. _thresholdList, threshold];
        }
        return _lastThreshold = threshold;
    }

    private ClickResult Reject(ClickStatus status, string detail)
    {
        switch (status)
        {
            case ClickStatus.RejectedInvalid: _stats.Invalid++; break;
            case ClickStatus.RejectedTooLate: _stats.TooLate++; break;
            case ClickStatus.RejectedOutsideWindow: _stats.OutsideWindow++; break;
        }
        _metrics.Event(status);
        return ClickResult.Rejected(status, detail);
    }

    private static string? Validate(in SequenceClick click)
    {
        if (string.IsNullOrEmpty(click.UserId)) return $"Click '{click.EventId}' has no user id.";
        if (string.IsNullOrEmpty(click.EventId)) return $"Click of user '{click.UserId}' has no event id.";
        if (string.IsNullOrEmpty(click.ItemId)) return $"Click '{click.EventId}' of user '{click.UserId}' has no item id.";
        if (click.TimestampMs < 0) return $"Click '{click.EventId}' of user '{click.UserId}' has a negative timestamp ({click.TimestampMs} ms).";
        if (click.Domain is null) return $"Click '{click.EventId}' of user '{click.UserId}' has a null domain (use \"\" for the default domain).";
        return null;
    }

    /// <summary>Statistics over every decision so far, all variants side by side.</summary>
    public SequenceStatistics GetStatistics() => _stats.ToRecord(_options.Variant, _users.Count, TemporalThresholds);

    /// <summary>Users whose state changed since the last call (to persist with the batch's offsets).</summary>
    public IReadOnlyList<string> TakeChangedUsers()
    {
        var changed = new string[_changedUsers.Count];
        for (var i = 0; i < changed.Length; i++)
        {
            changed[i] = _changedUsers[i].UserId;
            _changedUsers[i].Changed = false;
        }
        _changedUsers.Clear();
        return changed;
    }

    /// <summary>Forgets a user (e.g. idle expiry or erasure); their next click starts a new sequence.</summary>
    public bool RemoveUser(string userId)
    {
        if (!_users.Remove(userId, out var user)) return false;
        if (user.Changed)
        {
            user.Changed = false;
            _changedUsers.Remove(user);
        }
        return true;
    }

    /// <summary>
    /// Drops the users <paramref name="evictable"/> accepts, except those changed since the last <see cref="TakeChangedUsers"/>
    /// (their state is not persisted yet). Returns how many were dropped. Eviction never changes a decision as long as an
    /// evicted user is restored (<see cref="RestoreUser"/>) before their next click.
    /// </summary>
    public int EvictUsers(Func<UserSequence, bool> evictable)
    {
        ArgumentNullException.ThrowIfNull(evictable);
        List<string>? evicted = null;
        foreach (var (id, user) in _users)
            if (!user.Changed && evictable(user)) (evicted ??= []).Add(id);
        if (evicted is null) return 0;
        foreach (var id in evicted) _users.Remove(id);
        return evicted.Count;
    }

    /// <summary>Every user currently in memory (read on the detector's thread).</summary>
    public IEnumerable<UserSequence> Users => _users.Values;

    /// <summary>One user's state as bytes (e.g. a PostgreSQL bytea row), or null for an unknown user.</summary>
    public byte[]? SnapshotUser(string userId) => _users.TryGetValue(userId, out var user) ? user.ToSnapshot() : null;

    /// <summary>Restores (or replaces) one user's state from <see cref="SnapshotUser"/> bytes; returns the user id.</summary>
    public string RestoreUser(byte[] snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        using var stream = new MemoryStream(snapshot, writable: false);
        using var reader = SnapshotIO.Reader(stream);
        var user = UserSequence.Read(reader, _options.WindowSize, _options.DeduplicationCapacity, _model.IndexOf);
        RemoveUser(user.UserId);
        _users.Add(user.UserId, user);
        return user.UserId;
    }

    /// <summary>
    /// Writes the detector's whole state: TD sketches and thresholds, statistics and every user (sorted, so
    /// equal states give equal bytes). The model is snapshotted separately with its own WriteSnapshot.
    /// </summary>
    public void WriteSnapshot(Stream destination) => WriteSnapshot(destination, includeUsers: true);

    /// <summary>
    /// <see cref="WriteSnapshot(Stream)"/>, optionally without the users (stored one row each, incrementally); restoring it
    /// leaves the detector without users until <see cref="RestoreUser"/> brings them back.
    /// </summary>
    public void WriteSnapshot(Stream destination, bool includeUsers)
    {
        using var writer = SnapshotIO.Writer(destination);
        SnapshotIO.WriteHeader(writer, Magic, FormatVersion);
        WriteSettings(writer);
        WriteThresholds(writer);
        _stats.Write(writer);
        var users = includeUsers ? _users.Keys.ToArray() : [];
        Array.Sort(users, StringComparer.Ordinal);
        writer.Write(users.Length);
        foreach (var id in users) _users[id].Write(writer);
    }

    /// <summary>Replaces the detector's whole state with a <see cref="WriteSnapshot(Stream, bool)"/> (restore the model first).</summary>
    public void RestoreSnapshot(Stream source)
    {
        using var reader = SnapshotIO.Reader(source);
        SnapshotIO.ReadHeader(reader, Magic, FormatVersion, "Sequence detector");
        ReadAndCheckSettings(reader);
        var thresholds = ReadThresholds(reader);
        var stats = new SequenceStatisticsAccumulator();
        stats.Read(reader);
        var count = reader.ReadInt32();
        var users = new List<UserSequence>(count);
        for (var i = 0; i < count; i++) users.Add(UserSequence.Read(reader, _options.WindowSize, _options.DeduplicationCapacity, _model.IndexOf));

        _users.Clear();
        foreach (var user in users) _users.Add(user.UserId, user);
        _changedUsers.Clear();
        _thresholds.Clear();
        foreach (var threshold in thresholds) _thresholds.Add(threshold.Domain, threshold);
        _thresholdList = thresholds.ToArray();
        _lastThreshold = null;
        _stats = stats;
    }

    /// <summary>Only the TD thresholds and their gap sketches (all domains).</summary>
    public void WriteThresholdSnapshot(Stream destination)
    {
        using var writer = SnapshotIO.Writer(destination);
        WriteThresholds(writer);
    }

    public void RestoreThresholdSnapshot(Stream source)
    {
        using var reader = SnapshotIO.Reader(source);
        var thresholds = ReadThresholds(reader);
        _thresholds.Clear();
        foreach (var threshold in thresholds) _thresholds.Add(threshold.Domain, threshold);
        _thresholdList = thresholds.ToArray();
        _lastThreshold = null;
    }

    private void WriteThresholds(BinaryWriter writer)
    {
        SnapshotIO.WriteHeader(writer, "RSQT", FormatVersion);
        var domains = _thresholds.Keys.ToArray();
        Array.Sort(domains, StringComparer.Ordinal);
        writer.Write(domains.Length);
        foreach (var domain in domains) _thresholds[domain].Write(writer);
    }

    private List<TemporalThreshold> ReadThresholds(BinaryReader reader)
    {
        SnapshotIO.ReadHeader(reader, "RSQT", FormatVersion, "TD threshold");
        var count = reader.ReadInt32();
        var thresholds = new List<TemporalThreshold>(count);
        for (var i = 0; i < count; i++) thresholds.Add(Sequence.TemporalThreshold.Read(reader, _options));
        return thresholds;
    }

    private void WriteSettings(BinaryWriter writer)
    {
        writer.Write(_options.WindowSize);
        writer.Write(_options.ContextLength);
        writer.Write(_options.DeduplicationCapacity);
        writer.Write(_options.RankThreshold);
        writer.Write(_options.LabelThreshold);
        writer.Write(_options.OutOfOrderToleranceMs);
        writer.Write(_options.FixedTemporalThresholdMs ?? -1);
        writer.Write(_options.TemporalPercentile);
        writer.Write(_options.BasketToleranceMs);
    }

    private void ReadAndCheckSettings(BinaryReader reader)
    {
        const string what = "Sequence detector";
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.WindowSize), reader.ReadInt32(), _options.WindowSize);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.ContextLength), reader.ReadInt32(), _options.ContextLength);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.DeduplicationCapacity), reader.ReadInt32(), _options.DeduplicationCapacity);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.RankThreshold), reader.ReadInt32(), _options.RankThreshold);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.LabelThreshold), reader.ReadDouble(), _options.LabelThreshold);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.OutOfOrderToleranceMs), reader.ReadInt64(), _options.OutOfOrderToleranceMs);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.FixedTemporalThresholdMs), reader.ReadInt64(), _options.FixedTemporalThresholdMs ?? -1);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.TemporalPercentile), reader.ReadDouble(), _options.TemporalPercentile);
        SnapshotIO.ExpectSetting(what, nameof(SequenceDetectorOptions.BasketToleranceMs), reader.ReadInt64(), _options.BasketToleranceMs);
    }

    private IEnumerable<Measurement<long>> ObserveThresholds()
    {
        foreach (var threshold in _thresholdList)
            yield return new Measurement<long>(threshold.CurrentMs, new KeyValuePair<string, object?>("domain", threshold.Domain));
    }

    private IEnumerable<Measurement<double>> ObserveFillRatios()
    {
        for (var v = 0; v < SequenceStatisticsAccumulator.VariantCount; v++)
            yield return new Measurement<double>(_stats.FillRatio(v), new KeyValuePair<string, object?>("variant", SequenceMetrics.VariantTag(v)));
    }

    public void Dispose() => _metrics.Dispose();
}
