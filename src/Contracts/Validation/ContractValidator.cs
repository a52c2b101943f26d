using ReaSeq.Contracts.Serialization;

namespace ReaSeq.Contracts.Validation;

/// <summary>
/// Checks decoded records against <see cref="ContractLimits"/>. A violation throws <see cref="ContractException"/>
/// with error class "validation" and a message that names the field, so the dead letter explains itself.
/// </summary>
public sealed class ContractValidator(ContractLimits limits, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public ContractLimits Limits => limits;

    public void Validate(ItemUpdate item)
    {
        Id("item_id", item.ItemId);
        Text("title", item.Title, limits.MaxTitleLength, required: item.Op == ItemOp.UPSERT);
        Text("description", item.Description, limits.MaxDescriptionLength, required: false);
        Timestamp(item.TsMs);
        Count("category_path", item.CategoryPath.Count);
        foreach (var c in item.CategoryPath) Text("category_path[]", c, limits.MaxCollectionValueLength, required: true);
        Count("attributes", item.Attributes.Count);
        foreach (var (k, v) in item.Attributes)
        {
            Text("attributes key", k, limits.MaxCollectionValueLength, required: true);
            Text($"attributes[{Clip(k)}]", v, limits.MaxCollectionValueLength, required: false);
        }
        if (item.Price is { } p && (double.IsNaN(p) || double.IsInfinity(p) || p < 0))
            Fail($"price must be a finite non-negative number, got {p}");
        if (!Enum.IsDefined(item.Op)) Fail($"op has unknown value {(int)item.Op}");
    }

    public void Validate(ClickEvent click)
    {
        Id("event_id", click.EventId);
        Id("user_id", click.UserId);
        Id("item_id", click.ItemId);
        Timestamp(click.TsMs);
        if (!Enum.IsDefined(click.Action)) Fail($"action has unknown value {(int)click.Action}");
        Context(click.Context);
    }

    /// <summary>
    /// Clicks are keyed by user_id, so all of a user's clicks land on one partition and one owner. A click keyed by
    /// anything else (or nothing) would split its user across partitions: error class "key_mismatch".
    /// </summary>
    public void ValidateKey(ClickEvent click, byte[]? key) => Key("user_id", click.UserId, key);

    public void Validate(LabeledImpression impression)
    {
        Id("impression_id", impression.ImpressionId);
        Id("user_id", impression.UserId);
        Id("item_id", impression.ItemId);
        Timestamp(impression.TsMs);
        if (impression.Label is not (0 or 1)) Fail($"label must be 0 or 1, got {impression.Label}");
        Context(impression.Context);
    }

    public void Validate(SearchQuery query)
    {
        Text("text", query.Text, limits.MaxTitleLength, required: true);
        Text("category", query.Category, limits.MaxCollectionValueLength, required: false);
        Timestamp(query.TsMs);
    }

    private void Context(Dictionary<string, string> context)
    {
        Count("context", context.Count);
        foreach (var (k, v) in context)
        {
            Text("context key", k, limits.MaxCollectionValueLength, required: true);
            Text($"context[{Clip(k)}]", v, limits.MaxCollectionValueLength, required: false);
        }
    }

    private static void Key(string field, string expected, byte[]? key)
    {
        if (key is null)
            throw new ContractException(ErrorClasses.KeyMismatch, $"record has no key; it must be keyed by its {field} '{Clip(expected)}'");
        var actual = System.Text.Encoding.UTF8.GetString(key);
        if (!string.Equals(actual, expected, StringComparison.Ordinal))
        {
            throw new ContractException(ErrorClasses.KeyMismatch,
                $"record key '{Clip(actual)}' differs from its {field} '{Clip(expected)}' (records are partitioned by {field})");
        }
    }

    private void Id(string field, string value)
    {
        if (string.IsNullOrWhiteSpace(value)) Fail($"{field} is missing");
        if (value.Length > limits.MaxIdLength) Fail($"{field} is {value.Length} characters long, limit {limits.MaxIdLength}");
        foreach (var ch in value)
            if (char.IsControl(ch)) Fail($"{field} contains control character U+{(int)ch:X4}");
    }

    private static void Text(string field, string value, int max, bool required)
    {
        if (required && string.IsNullOrWhiteSpace(value)) Fail($"{field} is missing");
        if (value.Length > max) Fail($"{field} is {value.Length} characters long, limit {max}");
        if (value.Contains('\0')) Fail($"{field} contains a NUL character");
    }

    private void Count(string field, int count)
    {
        if (count > limits.MaxCollectionEntries) Fail($"{field} has {count} entries, limit {limits.MaxCollectionEntries}");
    }

    private void Timestamp(long tsMs)
    {
        if (tsMs < limits.MinTimestampMs) Fail($"ts_ms {tsMs} is before the earliest accepted time {limits.MinTimestampMs}");
        var latest = _clock.GetUtcNow().ToUnixTimeMilliseconds() + limits.MaxFutureSkewMs;
        if (tsMs > latest) Fail($"ts_ms {tsMs} is in the far future (latest accepted {latest})");
    }

    private static string Clip(string s) => s.Length <= 32 ? s : s[..32] + "…";

    private static void Fail(string message) => throw new ContractException(ErrorClasses.Validation, message);
}
