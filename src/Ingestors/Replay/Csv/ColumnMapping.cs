namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>
/// Which CSV column feeds which contract field, parsed from <c>role=Column,role=Column,...</c>, e.g.
/// <c>user=CustomerID,item=StockCode,ts=InvoiceDate,title=Description,price=UnitPrice</c>.
/// Roles: user, item, ts (required); title, description, category, price, event (source event id),
/// action (click/cart/buy values), basket (basket or session id: negatives exclude the basket's items);
/// <c>ctx.NAME</c> copies a column into the click's context under NAME; <c>attr.NAME</c> into the item's attributes.
/// Column names match the header exactly (case-sensitive), after trimming spaces around them.
/// </summary>
public sealed class ColumnMapping
{
    public const string User = "user", Item = "item", Ts = "ts", Title = "title", Description = "description",
        Category = "category", Price = "price", Event = "event", Action = "action", Basket = "basket";

    private const string ContextPrefix = "ctx.", AttributePrefix = "attr.";

    public static readonly IReadOnlyList<string> Roles = [User, Item, Ts, Title, Description, Category, Price, Event, Action, Basket];
    private static readonly string[] Required = [User, Item, Ts];

    private readonly Dictionary<string, string> _roles;

    private ColumnMapping(Dictionary<string, string> roles, List<KeyValuePair<string, string>> context,
        List<KeyValuePair<string, string>> attributes)
    {
        _roles = roles;
        Context = context;
        Attributes = attributes;
    }

    /// <summary>Context key → column.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Context { get; }

    /// <summary>Attribute key → column.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; }

    public string? ColumnFor(string role) => _roles.GetValueOrDefault(role);

    public static ColumnMapping Parse(string mapping)
    {
        if (string.IsNullOrWhiteSpace(mapping))
            throw new ColumnMappingException($"Column mapping is empty; expected role=Column pairs, e.g. user=CustomerID,item=StockCode,ts=InvoiceDate. Roles: {string.Join(", ", Roles)}, ctx.NAME, attr.NAME");
        var roles = new Dictionary<string, string>(StringComparer.Ordinal);
        var context = new List<KeyValuePair<string, string>>();
        var attributes = new List<KeyValuePair<string, string>>();
        foreach (var rawPair in mapping.Split(','))
        {
            var pair = rawPair.Trim();
            if (pair.Length == 0) continue;
            var eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
                throw new ColumnMappingException($"Column mapping entry '{pair}' is not role=Column");
            var role = pair[..eq].Trim().ToLowerInvariant();
            var column = pair[(eq + 1)..].Trim();
            if (role.StartsWith(ContextPrefix, StringComparison.Ordinal) && role.Length > ContextPrefix.Length)
                context.Add(new(pair[..eq].Trim()[ContextPrefix.Length..], column));
            else if (role.StartsWith(AttributePrefix, StringComparison.Ordinal) && role.Length > AttributePrefix.Length)
                attributes.Add(new(pair[..eq].Trim()[AttributePrefix.Length..], column));
            else if (!Roles.Contains(role))
                throw new ColumnMappingException($"Unknown mapping role '{role}' in '{pair}'. Known roles: {string.Join(", ", Roles)}, ctx.NAME, attr.NAME");
            else if (!roles.TryAdd(role, column))
                throw new ColumnMappingException($"Mapping role '{role}' is given twice");
        }
        foreach (var role in Required)
        {
            if (!roles.ContainsKey(role))
                throw new ColumnMappingException($"Column mapping lacks the required role '{role}' (required: {string.Join(", ", Required)})");
        }

        return new ColumnMapping(roles, context, attributes);
    }

    public override string ToString() =>
        string.Join(',', Roles.Where(_roles.ContainsKey).Select(r => $"{r}={_roles[r]}")
            .Concat(Context.Select(p => $"{ContextPrefix}{p.Key}={p.Value}"))
            .Concat(Attributes.Select(p => $"{AttributePrefix}{p.Key}={p.Value}")));

    /// <summary>Resolves every mapped column to its index in <paramref name="header"/>, or explains which is missing.</summary>
    public BoundMapping Bind(CsvHeader header)
    {
        int? IndexOf(string role) => ColumnFor(role) is { } column ? header.IndexOf(column, $"mapped to {role}") : null;
        return new BoundMapping(
            User: IndexOf(User)!.Value, Item: IndexOf(Item)!.Value, Ts: IndexOf(Ts)!.Value,
            Title: IndexOf(Title), Description: IndexOf(Description), Category: IndexOf(Category), Price: IndexOf(Price),
            Event: IndexOf(Event), Action: IndexOf(Action), Basket: IndexOf(Basket),
            Context: [.. Context.Select(p => new KeyValuePair<string, int>(p.Key, header.IndexOf(p.Value, $"mapped to ctx.{p.Key}")))],
            Attributes: [.. Attributes.Select(p => new KeyValuePair<string, int>(p.Key, header.IndexOf(p.Value, $"mapped to attr.{p.Key}")))]);
    }
}

/// <summary>Column indexes of a mapping applied to one header.</summary>
public sealed record BoundMapping(
    int User, int Item, int Ts, int? Title, int? Description, int? Category, int? Price, int? Event, int? Action, int? Basket,
    IReadOnlyList<KeyValuePair<string, int>> Context, IReadOnlyList<KeyValuePair<string, int>> Attributes);
