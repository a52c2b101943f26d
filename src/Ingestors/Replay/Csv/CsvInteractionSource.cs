using System.Globalization;
using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>
/// Replays any interaction CSV (plain or gzip) through a <see cref="ColumnMapping"/>: per interaction row one
/// <see cref="ClickEvent"/>; an <see cref="ItemUpdate"/> before an item's first click and whenever its trimmed title
/// (or, optionally, price) changes; optionally a positive <see cref="LabeledImpression"/> per click plus negatives from
/// a <see cref="PopularityNegativeSampler"/>. Rows are grouped into baskets (the mapped basket column, else the same
/// user at the same time) so that negatives never include an item of the user's own basket.
/// Event ids: the mapped event column, else derived from the row number and all of the row's fields, or from the
/// rules' event identity.
/// </summary>
public sealed class CsvInteractionSource : IReplaySource
{
    private readonly string _path;
    private readonly ColumnMapping _mapping;
    private readonly CsvReplayOptions _options;
    private readonly ICsvRowRules? _rules;

    public CsvInteractionSource(string path, ColumnMapping mapping, CsvReplayOptions? options = null, ICsvRowRules? rules = null)
    {
        _path = path;
        _mapping = mapping;
        _options = options ?? new CsvReplayOptions();
        _options.Validate();
        _rules = rules;
        if (!File.Exists(path)) throw new FileNotFoundException($"Interaction file {path} does not exist", path);
        // Fail at construction, not mid-replay, when the mapping does not fit the file.
        using var reader = new CsvRecordReader(CsvRecordReader.OpenText(path), path);
        Header = ReadHeader(reader, path);
        _mapping.Bind(Header);
        _rules?.Bind(Header);
    }

    public CsvInteractionSource(string path, string mapping, CsvReplayOptions? options = null, ICsvRowRules? rules = null)
        : this(path, ColumnMapping.Parse(mapping), options, rules)
    {
    }

    public string Name => _options.Name;
    public ReplaySourceStats Stats { get; } = new();
    public CsvHeader Header { get; }

    public IEnumerable<ReplayRecord> Read(CancellationToken ct = default)
    {
        Stats.Reset();
        var state = new ReplayState(_options, _rules, Stats);
        using var reader = new CsvRecordReader(CsvRecordReader.OpenText(_path), _path);
        var header = ReadHeader(reader, _path);
        var columns = _mapping.Bind(header);
        _rules?.Bind(header);

        var rows = ParseRows(reader, header, columns, ct);
        if (_options.SortByTime)
            rows = rows.ToList().OrderBy(r => r.TsMs); // LINQ OrderBy is stable: file order breaks ties

        long lastTs = long.MinValue;
        var ready = new List<ReplayRecord>();
        foreach (var row in rows)
        {
            if (row.TsMs < lastTs)
            {
                throw new CsvFormatException(
                    $"{_path} is not sorted by time at line {row.Line} (rows are not in time order: {Utc(row.TsMs)} after {Utc(lastTs)}); add --sort to sort it in memory");
            }

            lastTs = row.TsMs;
            if (!state.Add(row)) continue;
            // The row opened a new basket: the previous basket is complete.
            state.FlushCompleted(ready);
            foreach (var record in ready) yield return record;
            ready.Clear();
        }
        state.FlushAll(ready);
        foreach (var record in ready) yield return record;
    }

    private static string Utc(long ms) =>
        DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static CsvHeader ReadHeader(CsvRecordReader reader, string path) =>
        reader.ReadRecord() is { } columns && !(columns.Length == 1 && columns[0].Length == 0)
            ? new CsvHeader(columns, path)
            : throw new CsvFormatException($"{path}: no header row (the file is empty or starts with a blank line)");

    private IEnumerable<ParsedRow> ParseRows(CsvRecordReader reader, CsvHeader header, BoundMapping columns, CancellationToken ct)
    {
        long rowNumber = 0, unreadable = 0;
        var unreadableReasons = new Dictionary<string, long>(StringComparer.Ordinal);
        void Unreadable(string reason)
        {
            Stats.CountSkip(reason);
            unreadable++;
            unreadableReasons[reason] = unreadableReasons.GetValueOrDefault(reason) + 1;
        }
        while (reader.ReadRecord() is { } fields)
        {
            ct.ThrowIfCancellationRequested();
            rowNumber++;
            Stats.CountRead();
            if (fields.Length == 1 && fields[0].Length == 0) { Unreadable("blank_line"); continue; }
            if (fields.Length != header.Columns.Count) { Unreadable("malformed_row"); continue; }
            if (_rules?.SkipReason(fields) is { } reason) { Stats.CountSkip(reason); continue; }

            var user = fields[columns.User].Trim();
            if (user.Length == 0) { Unreadable("missing_user"); continue; }
            var item = fields[columns.Item].Trim();
            if (item.Length == 0) { Unreadable("missing_item"); continue; }
            if (!TimestampParser.TryParseUnixMs(fields[columns.Ts], _options.TimestampFormat, out var tsMs)) { Unreadable("bad_timestamp"); continue; }

            double? price = null;
            if (columns.Price is { } priceColumn && fields[priceColumn].Trim() is { Length: > 0 } priceText)
            {
                if (!double.TryParse(priceText, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) || !double.IsFinite(p) || p < 0)
                { Unreadable("bad_price"); continue; }
                price = p;
            }

            var action = _options.DefaultAction;
            if (columns.Action is { } actionColumn && !TryParseAction(fields[actionColumn], out action))
            { Unreadable("unknown_action"); continue; }

            string eventId;
            if (columns.Event is { } eventColumn && fields[eventColumn].Trim() is { Length: > 0 } sourceId)
                eventId = sourceId;
            else if (_rules is not null)
                eventId = StableId.From(_options.EventIdPrefix, _rules.EventIdentity(fields));
            else
                eventId = StableId.From(_options.EventIdPrefix, [rowNumber.ToString(CultureInfo.InvariantCulture), .. fields]);

            var basket = columns.Basket is { } basketColumn
                ? $"{user}\u001F{fields[basketColumn].Trim()}"
                : $"{user}\u001F{tsMs.ToString(CultureInfo.InvariantCulture)}";

            yield return new ParsedRow(reader.RecordLine, fields, columns, user, item, tsMs, price, action, eventId, basket);
        }
        // Checked once the file is read (a share needs the whole file); the published records stay published.
        if (_options.MaxSkippedShare is { } maxShare && rowNumber > 0 && (double)unreadable / rowNumber > maxShare)
        {
            var reasons = string.Join(", ", unreadableReasons.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value:N0}"));
            var hint = unreadableReasons.ContainsKey("bad_timestamp")
                ? "check the ts column or give its layout with --ts-format" : "check --map";
            throw new CsvFormatException(string.Create(CultureInfo.InvariantCulture,
                $"{_path}: {unreadable:N0} of {rowNumber:N0} rows ({(double)unreadable / rowNumber:P1}) could not be read ({reasons}), more than --max-skipped-share {maxShare}; {hint}, or raise --max-skipped-share"));
        }
    }

    /// <summary>Maps common action spellings onto the contract's three actions.</summary>
    public static bool TryParseAction(string text, out ClickAction action)
    {
        switch (text.Trim().ToLowerInvariant())
        {
            case "click" or "view" or "pageview" or "detail" or "clicks":
                action = ClickAction.CLICK; return true;
            case "cart" or "addtocart" or "add_to_cart" or "add-to-cart" or "basket":
                action = ClickAction.CART; return true;
            case "buy" or "purchase" or "transaction" or "order" or "checkout":
                action = ClickAction.BUY; return true;
            default:
                action = default; return false;
        }
    }

    internal sealed record ParsedRow(
        long Line, string[] Fields, BoundMapping Columns, string User, string Item, long TsMs, double? Price,
        ClickAction Action, string EventId, string Basket);

    /// <summary>Per-read state: known items, the current basket and the negative sampler.</summary>
    private sealed class ReplayState(CsvReplayOptions options, ICsvRowRules? rules, ReplaySourceStats stats)
    {
        private readonly Dictionary<string, (string Title, double? Price)> _items = new(StringComparer.Ordinal);
        private readonly PopularityNegativeSampler _sampler = new(options.Seed);
        private readonly List<ParsedRow> _basket = [];
        private readonly List<string> _negatives = [];
        private readonly List<string> _emittedItems = [];
        private readonly HashSet<string> _seenIds = new(StringComparer.Ordinal);
        private int _completed;

        /// <summary>Adds a row; true when it starts a new basket, leaving the previous one complete for <see cref="FlushCompleted"/>.</summary>
        public bool Add(ParsedRow row)
        {
            var startsBasket = _basket.Count > _completed && _basket[_completed].Basket != row.Basket;
            if (startsBasket) _completed = _basket.Count;
            _basket.Add(row);
            return startsBasket;
        }

        public void FlushCompleted(List<ReplayRecord> into)
        {
            Emit(_basket.GetRange(0, _completed), into);
            _basket.RemoveRange(0, _completed);
            _completed = 0;
        }

        public void FlushAll(List<ReplayRecord> into)
        {
            Emit(_basket, into);
            _basket.Clear();
            _completed = 0;
        }

        private void Emit(List<ParsedRow> basket, List<ReplayRecord> into)
        {
            if (basket.Count == 0) return;
            _seenIds.Clear();
            var basketItems = new HashSet<string>(basket.Select(r => r.Item), StringComparer.Ordinal);
            _emittedItems.Clear();
            foreach (var row in basket)
            {
                if (!_seenIds.Add(row.EventId)) { stats.CountSkip("duplicate_row"); continue; }
                if (ItemUpdateFor(row) is { } update) into.Add(stats.Count(new ReplayItem(update)));

                var click = new ClickEvent
                {
                    EventId = row.EventId,
                    UserId = row.User,
                    ItemId = row.Item,
                    TsMs = row.TsMs,
                    Action = row.Action,
                    Context = ContextOf(row),
                };
                into.Add(stats.Count(new ReplayClick(click)));
                _emittedItems.Add(row.Item);

                if (options.NegativesPerPositive == 0) continue;
                into.Add(stats.Count(new ReplayImpression(Impression(click, $"{click.EventId}-p", click.ItemId, 1, "observed"))));
                _negatives.Clear();
                var got = _sampler.Sample(options.NegativesPerPositive, basketItems, _negatives);
                for (var k = 0; k < got; k++)
                    into.Add(stats.Count(new ReplayImpression(Impression(click, $"{click.EventId}-n{k + 1}", _negatives[k], 0, "popularity_negative"))));
                for (var k = got; k < options.NegativesPerPositive; k++) stats.CountSkip("negative_shortfall");
            }
            // Popularity counts only baskets strictly before the one being sampled for.
            foreach (var item in _emittedItems) _sampler.Observe(item);
        }

        private static LabeledImpression Impression(ClickEvent click, string id, string item, int label, string kind) => new()
        {
            ImpressionId = id,
            UserId = click.UserId,
            ItemId = item,
            TsMs = click.TsMs,
            Label = label,
            Context = new(click.Context, StringComparer.Ordinal) { ["impression"] = kind },
        };

        private static Dictionary<string, string> ContextOf(ParsedRow row)
        {
            var context = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (key, column) in row.Columns.Context) context[key] = row.Fields[column].Trim();
            return context;
        }

        private ItemUpdate? ItemUpdateFor(ParsedRow row)
        {
            var columns = row.Columns;
            var title = columns.Title is { } t ? row.Fields[t].Trim() : "";
            var known = _items.TryGetValue(row.Item, out var previous);
            // A row without a title keeps the known one; an item never titled is named by its id (titles are required).
            if (title.Length == 0) title = known ? previous.Title : row.Item;
            var price = row.Price ?? (known ? previous.Price : null);
            var changed = !known || previous.Title != title || (options.ItemUpdateOnPriceChange && previous.Price != price);
            if (!changed) return null;
            _items[row.Item] = (title, known && !options.ItemUpdateOnPriceChange ? previous.Price : price);

            var update = new ItemUpdate
            {
                ItemId = row.Item,
                Title = title,
                TsMs = row.TsMs,
                Op = ItemOp.UPSERT,
                Description = columns.Description is { } d ? row.Fields[d].Trim() : "",
                Price = _items[row.Item].Price,
            };
            if (columns.Category is { } c)
                update.CategoryPath = [.. row.Fields[c].Split(options.CategorySeparator).Select(s => s.Trim()).Where(s => s.Length > 0)];
            foreach (var (key, column) in columns.Attributes)
                if (row.Fields[column].Trim() is { Length: > 0 } value) update.Attributes[key] = value;
            rules?.DescribeItem(update, row.Fields);
            return update;
        }
    }
}

