using System.Globalization;
using ReaSeq.Contracts;

namespace ReaSeq.Ingestors.Replay.Synthetic;

/// <summary>A leaf category; its name is also the noun that ends its items' titles.</summary>
public sealed record SyntheticSubCategory(int Index, int PrimaryIndex, string Name, double BasePrice);

public sealed record SyntheticCategory(int Index, string Name, IReadOnlyList<AttributeSchema> Schema, IReadOnlyList<SyntheticSubCategory> SubCategories);

public sealed record SyntheticItem(
    int Index, string Id, SyntheticSubCategory SubCategory, string Title, string Description,
    IReadOnlyDictionary<string, string> Attributes, double Price);

/// <summary>A user's latent interests: a mixture over sub-categories (weights sum to 1) and an activity level.</summary>
public sealed record SyntheticUser(int Index, string Id, IReadOnlyList<int> InterestSubCategories, IReadOnlyList<double> InterestWeights, double Activity);

/// <summary>
/// A seeded catalog and user population. Everything is a function of <see cref="SyntheticOptions"/>:
/// the same options give the same world.
/// </summary>
public sealed class SyntheticWorld
{
    private const double ItemPopularityExponent = 0.8;
    private readonly double[][] _itemCumulativeWeights;
    private readonly int[][] _itemsBySubCategory;

    private SyntheticWorld(SyntheticOptions options, IReadOnlyList<SyntheticCategory> categories, IReadOnlyList<SyntheticSubCategory> subs,
        IReadOnlyList<SyntheticItem> items, IReadOnlyList<SyntheticUser> users, int[][] itemsBySub, double[][] cumulative)
    {
        Options = options;
        Categories = categories;
        SubCategories = subs;
        Items = items;
        Users = users;
        _itemsBySubCategory = itemsBySub;
        _itemCumulativeWeights = cumulative;
    }

    public SyntheticOptions Options { get; }
    public IReadOnlyList<SyntheticCategory> Categories { get; }
    public IReadOnlyList<SyntheticSubCategory> SubCategories { get; }
    public IReadOnlyList<SyntheticItem> Items { get; }
    public IReadOnlyList<SyntheticUser> Users { get; }

    public IReadOnlyList<int> ItemsOf(int subCategory) => _itemsBySubCategory[subCategory];

    public static SyntheticWorld Create(SyntheticOptions options)
    {
        options.Validate();
        var random = DeterministicRandom.Derive(options.Seed, 0);

        var categories = new List<SyntheticCategory>();
        var subs = new List<SyntheticSubCategory>();
        foreach (var (primary, p) in SyntheticCatalogVocabulary.Primaries.Take(options.PrimaryCategories).Select((x, i) => (x, i)))
        {
            var children = primary.Subs.Take(options.SubCategoriesPerPrimary)
                .Select((s, k) => new SyntheticSubCategory(subs.Count + k, p, s.Noun, s.BasePrice)).ToList();
            subs.AddRange(children);
            categories.Add(new SyntheticCategory(p, primary.Name, primary.Schema, children));
        }

        // Items are dealt round-robin so every sub-category has some, then described from its parent's schema.
        var items = new List<SyntheticItem>(options.Items);
        var bySub = Enumerable.Range(0, subs.Count).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < options.Items; i++)
        {
            var sub = subs[i % subs.Count];
            items.Add(DescribeItem(i, sub, categories[sub.PrimaryIndex], random));
            bySub[sub.Index].Add(i);
        }

        // Zipf-like popularity inside each sub-category, over a random permutation of its items.
        var cumulative = new double[subs.Count][];
        for (var s = 0; s < subs.Count; s++)
        {
            var members = bySub[s];
            Shuffle(members, random);
            cumulative[s] = new double[members.Count];
            var total = 0.0;
            for (var r = 0; r < members.Count; r++)
            {
                total += 1.0 / Math.Pow(r + 1, ItemPopularityExponent);
                cumulative[s][r] = total;
            }
        }

        var users = new List<SyntheticUser>(options.Users);
        for (var u = 0; u < options.Users; u++) users.Add(CreateUser(u, subs, random));

        return new SyntheticWorld(options, categories, subs, items, users, [.. bySub.Select(l => l.ToArray())], cumulative);
    }

    /// <summary>An item of <paramref name="subCategory"/> drawn by popularity.</summary>
    public int DrawItem(int subCategory, DeterministicRandom random)
    {
        var weights = _itemCumulativeWeights[subCategory];
        var target = random.NextDouble() * weights[^1];
        var rank = Array.BinarySearch(weights, target);
        if (rank < 0) rank = ~rank;
        return _itemsBySubCategory[subCategory][Math.Min(rank, weights.Length - 1)];
    }

    /// <summary>The user's interest weight of a sub-category (0 when outside the mixture).</summary>
    public static double InterestIn(SyntheticUser user, int subCategory)
    {
        for (var i = 0; i < user.InterestSubCategories.Count; i++)
            if (user.InterestSubCategories[i] == subCategory) return user.InterestWeights[i];
        return 0;
    }

    public string CategoryPathOf(SyntheticItem item) => $"{Categories[item.SubCategory.PrimaryIndex].Name}>{item.SubCategory.Name}";

    public ItemUpdate ToItemUpdate(SyntheticItem item, long tsMs) => new()
    {
        ItemId = item.Id,
        Title = item.Title,
        Description = item.Description,
        CategoryPath = [Categories[item.SubCategory.PrimaryIndex].Name, item.SubCategory.Name],
        Attributes = new Dictionary<string, string>(item.Attributes, StringComparer.Ordinal),
        Price = item.Price,
        TsMs = tsMs,
        Op = ItemOp.UPSERT,
    };

    private static SyntheticItem DescribeItem(int index, SyntheticSubCategory sub, SyntheticCategory primary, DeterministicRandom random)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        var titleParts = new List<string>();
        foreach (var attribute in primary.Schema)
        {
            var value = attribute.Values[random.NextInt(attribute.Values.Count)];
            attributes[attribute.Name] = value;
            if (attribute.InTitle) titleParts.Add(value);
        }
        titleParts.Add(sub.Name);
        var title = string.Join(' ', titleParts);
        var price = Math.Round(sub.BasePrice * Math.Exp(0.3 * random.NextGaussian()), 2);
        var facts = string.Join("; ", primary.Schema.Select(a => $"{a.Name.Replace('_', ' ')}: {attributes[a.Name]}"));
        var description = $"{title} from our {primary.Name.ToLowerInvariant()} range ({sub.Name.ToLowerInvariant()}). {facts}.";
        return new SyntheticItem(index, ItemId(index), sub, title, description, attributes, Math.Max(price, 0.99));
    }

    private static SyntheticUser CreateUser(int index, IReadOnlyList<SyntheticSubCategory> subs, DeterministicRandom random)
    {
        // 1–3 interests; further interests stay in the first one's primary category half of the time.
        var count = 1 + random.NextInt(Math.Min(3, subs.Count));
        var chosen = new List<int> { random.NextInt(subs.Count) };
        var guard = 0;
        while (chosen.Count < count && guard++ < 100)
        {
            var siblings = subs.Where(s => s.PrimaryIndex == subs[chosen[0]].PrimaryIndex).ToList();
            var candidate = random.NextDouble() < 0.5 ? siblings[random.NextInt(siblings.Count)].Index : random.NextInt(subs.Count);
            if (!chosen.Contains(candidate)) chosen.Add(candidate);
        }
        var raw = chosen.Select(_ => random.NextExponential(1.0) + 0.05).ToArray();
        var sum = raw.Sum();
        // Log-normal activity with mean 1: exp(σ·z − σ²/2), σ = 0.8.
        var activity = Math.Exp(0.8 * random.NextGaussian() - 0.32);
        return new SyntheticUser(index, UserId(index), chosen, [.. raw.Select(w => w / sum)], activity);
    }

    private static void Shuffle(List<int> list, DeterministicRandom random)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.NextInt(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    public static string ItemId(int index) => "syn-i" + index.ToString("D6", CultureInfo.InvariantCulture);
    public static string UserId(int index) => "syn-u" + index.ToString("D6", CultureInfo.InvariantCulture);
}
