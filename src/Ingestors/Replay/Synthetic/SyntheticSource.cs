using System.Globalization;
using System.Text;
using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay.Synthetic;

/// <summary>
/// Replays a <see cref="SyntheticWorld"/>: first every catalog item (at the world's start time), then all users'
/// events merged in event-time order (ties by user index). Users act in sessions: short gaps inside a session,
/// long ones between; a session mostly stays in one sub-category of the user's interests. Off-platform sessions are
/// withheld from the stream and written to the ground truth instead. Each published click is followed by one
/// positive impression and negatives drawn from the catalog with interest-based acceptance (items of the user's
/// interests are "shown" more often than others, as a ranker would).
/// Each user's behaviour comes from its own random stream, so ids and events do not depend on the merge.
/// </summary>
public sealed class SyntheticSource : IReplaySource
{
    public const string OffPlatformReason = "off_platform";
    private readonly SyntheticWorld _world;
    private readonly string? _groundTruthPath;
    private readonly TextWriter? _groundTruthWriter;

    /// <param name="world"></param>
    /// <param name="groundTruthPath">Written (replaced) on every <see cref="Read"/>: one JSON line per off-platform event.</param>
    public SyntheticSource(SyntheticWorld world, string? groundTruthPath = null)
    {
        _world = world;
        _groundTruthPath = groundTruthPath;
    }

    /// <param name="world"></param>
    /// <param name="groundTruth">Receives one JSON line per off-platform event; flushed, not closed, at the end.</param>
    public SyntheticSource(SyntheticWorld world, TextWriter groundTruth)
    {
        _world = world;
        _groundTruthWriter = groundTruth;
    }

    public string Name => "synthetic";
    public ReplaySourceStats Stats { get; } = new();
    public SyntheticWorld World => _world;

    public IEnumerable<ReplayRecord> Read(CancellationToken ct = default)
    {
        Stats.Reset();
        var options = _world.Options;
        using var ownedWriter = _groundTruthPath is null ? null : new StreamWriter(_groundTruthPath, append: false, new UTF8Encoding(false));
        var groundTruth = ownedWriter ?? _groundTruthWriter;

        foreach (var item in _world.Items)
            yield return Stats.Count(new ReplayItem(_world.ToItemUpdate(item, options.StartMs)));

        var queue = new PriorityQueue<UserTimeline, (long TsMs, int User)>(_world.Users.Count);
        foreach (var user in _world.Users)
        {
            var timeline = new UserTimeline(_world, user);
            if (timeline.MoveNext()) queue.Enqueue(timeline, (timeline.TsMs, user.Index));
        }

        var negatives = new List<int>(options.NegativesPerClick);
        var checkEvery = 0;
        while (queue.TryDequeue(out var timeline, out _))
        {
            if (++checkEvery % 4096 == 0) ct.ThrowIfCancellationRequested();
            Stats.CountRead();
            var item = _world.Items[timeline.ItemIndex];
            if (!timeline.OnPlatform)
            {
                Stats.CountSkip(OffPlatformReason);
                groundTruth?.WriteLine(SyntheticGroundTruth.ToJsonLine(new OffPlatformEvent(
                    timeline.User.Id, item.Id, timeline.TsMs, timeline.LastPublishedEventId, _world.CategoryPathOf(item),
                    timeline.Action, timeline.Session)));
            }
            else
            {
                var click = new ClickEvent
                {
                    EventId = timeline.EventId,
                    UserId = timeline.User.Id,
                    ItemId = item.Id,
                    TsMs = timeline.TsMs,
                    Action = timeline.Action,
                    Context = new(StringComparer.Ordinal) { ["session"] = timeline.Session.ToString(CultureInfo.InvariantCulture) },
                };
                timeline.LastPublishedEventId = click.EventId;
                yield return Stats.Count(new ReplayClick(click));
                if (options.NegativesPerClick > 0)
                {
                    yield return Stats.Count(new ReplayImpression(Impression(click, "p", item.Id, 1, "observed")));
                    negatives.Clear();
                    timeline.SampleNegatives(options.NegativesPerClick, negatives);
                    for (var k = 0; k < negatives.Count; k++)
                        yield return Stats.Count(new ReplayImpression(Impression(click, $"n{k + 1}", _world.Items[negatives[k]].Id, 0, "interest_negative")));
                    for (var k = negatives.Count; k < options.NegativesPerClick; k++) Stats.CountSkip("negative_shortfall");
                }
            }
            if (timeline.MoveNext()) queue.Enqueue(timeline, (timeline.TsMs, timeline.User.Index));
        }
        groundTruth?.Flush();
    }

    private static LabeledImpression Impression(ClickEvent click, string suffix, string itemId, int label, string kind) => new()
    {
        ImpressionId = $"{click.EventId}-{suffix}",
        UserId = click.UserId,
        ItemId = itemId,
        TsMs = click.TsMs,
        Label = label,
        Context = new(StringComparer.Ordinal) { ["impression"] = kind, ["session"] = click.Context["session"] },
    };

    /// <summary>One user's event generator: a small state machine advanced one event at a time.</summary>
    private sealed class UserTimeline
    {
        private const long MinSessionBreakMs = 30 * 60_000L;
        private const long MinInSessionGapMs = 1_000L;
        private readonly SyntheticWorld _world;
        private readonly SyntheticOptions _options;
        private readonly DeterministicRandom _random;
        private readonly DeterministicRandom _impressionRandom; // separate, so impressions never change behaviour
        private readonly int _targetEvents;
        private readonly double _meanSessionBreakMs;
        private readonly double _maxInterest;
        private int _produced;
        private int _sessionRemaining;
        private int _subCategory = -1;
        private bool _started;

        public UserTimeline(SyntheticWorld world, SyntheticUser user)
        {
            _world = world;
            _options = world.Options;
            User = user;
            _random = DeterministicRandom.Derive(_options.Seed, (ulong)user.Index + 1);
            _impressionRandom = DeterministicRandom.Derive(~_options.Seed, (ulong)user.Index + 1);
            _targetEvents = Math.Max(1, (int)Math.Round(_options.EventsPerUser * user.Activity));
            var sessions = Math.Max(1.0, _targetEvents / _options.EventsPerSession);
            _meanSessionBreakMs = Math.Max(MinSessionBreakMs, (_options.EndMs - _options.StartMs) / sessions);
            _maxInterest = user.InterestWeights.Max();
        }

        public SyntheticUser User { get; }
        public long TsMs { get; private set; }
        public int ItemIndex { get; private set; }
        public ClickAction Action { get; private set; }
        public bool OnPlatform { get; private set; }
        public int Session { get; private set; }
        public string EventId => $"syn-e{User.Index:D6}-{_produced}";
        public string? LastPublishedEventId { get; set; }

        public bool MoveNext()
        {
            if (_produced >= _targetEvents) return false;
            if (_sessionRemaining == 0)
            {
                TsMs = _started
                    ? TsMs + MinSessionBreakMs + (long)_random.NextExponential(_meanSessionBreakMs)
                    : _options.StartMs + 1 + (long)(_random.NextDouble() * _meanSessionBreakMs);
                _started = true;
                Session++;
                _sessionRemaining = 1 + Geometric(_options.EventsPerSession - 1);
                OnPlatform = _random.NextDouble() >= _options.OffPlatformShare;
                _subCategory = DrawInterest();
            }
            else
            {
                TsMs += MinInSessionGapMs + (long)_random.NextExponential(_options.InSessionGapSeconds * 1000);
                if (User.InterestSubCategories.Count > 1 && _random.NextDouble() < _options.InSessionSwitchProbability)
                    _subCategory = DrawInterest(except: _subCategory);
            }
            if (TsMs >= _options.EndMs) return false;

            ItemIndex = _world.DrawItem(_subCategory, _random);
            var roll = _random.NextDouble();
            Action = roll < _options.BuyShare ? ClickAction.BUY : roll < _options.BuyShare + _options.CartShare ? ClickAction.CART : ClickAction.CLICK;
            _sessionRemaining--;
            _produced++;
            return true;
        }

        /// <summary>Catalog items other than the current one, accepted with probability rising with the user's interest.</summary>
        public void SampleNegatives(int count, List<int> into)
        {
            var items = _world.Items;
            var wanted = Math.Min(count, items.Count - 1);
            var attempts = 0;
            while (into.Count < wanted && attempts++ < wanted * 64)
            {
                var candidate = _impressionRandom.NextInt(items.Count);
                if (candidate == ItemIndex || into.Contains(candidate)) continue;
                var interest = SyntheticWorld.InterestIn(User, items[candidate].SubCategory.Index) / _maxInterest;
                if (_impressionRandom.NextDouble() < 0.1 + 0.9 * interest) into.Add(candidate);
            }
        }

        private int DrawInterest(int except = -1)
        {
            var weights = User.InterestWeights;
            var total = 0.0;
            for (var i = 0; i < weights.Count; i++)
                if (User.InterestSubCategories[i] != except) total += weights[i];
            var target = _random.NextDouble() * total;
            var last = -1;
            for (var i = 0; i < weights.Count; i++)
            {
                if (User.InterestSubCategories[i] == except) continue;
                last = User.InterestSubCategories[i];
                target -= weights[i];
                if (target < 0) return last;
            }
            return last;
        }

        private int Geometric(double mean)
        {
            if (mean <= 0) return 0;
            var p = 1.0 / (mean + 1);
            return (int)Math.Floor(Math.Log(1.0 - _random.NextDouble()) / Math.Log(1.0 - p));
        }
    }
}
