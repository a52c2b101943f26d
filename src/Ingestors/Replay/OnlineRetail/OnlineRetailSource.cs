using System.Globalization;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Ingestors.Replay.OnlineRetail;

public sealed class OnlineRetailOptions
{
    /// <summary>Sampled negative impressions per purchase line; 0 emits no impressions.</summary>
    public int NegativesPerPurchase { get; set; } = 4;

    /// <summary>Seed of the popularity negative sampler.</summary>
    public ulong Seed { get; set; } = 20101201;

    /// <summary>
    /// True (default): the keyword-derived category becomes the item's category_path (one level). False: it is only
    /// recorded as the attribute derived_category and category_path stays empty for the classifier to fill.
    /// </summary>
    public bool DerivedCategoryAsPath { get; set; } = true;
}

/// <summary>
/// The UCI Online Retail data set replayed as purchases: one BUY click per purchase line, item updates from the
/// product descriptions, and labeled impressions (the purchase plus popularity-sampled negatives).
/// See <see cref="OnlineRetailRules"/> for how each quirk of the data is handled.
/// </summary>
public sealed class OnlineRetailSource : IReplaySource
{
    /// <summary>Column mapping of the converted CSV (see the data set's README).</summary>
    public const string Mapping =
        "user=CustomerID,item=StockCode,ts=InvoiceDate,title=Description,price=UnitPrice,basket=InvoiceNo," +
        "ctx.invoice=InvoiceNo,ctx.quantity=Quantity,ctx.country=Country";

    public const string Attribution =
        "\"Online Retail\" by Daqing Chen, UCI Machine Learning Repository, https://doi.org/10.24432/C5BW33 , " +
        "licensed under CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/).";

    private readonly CsvInteractionSource _csv;

    public OnlineRetailSource(string path, OnlineRetailOptions? options = null)
    {
        options ??= new OnlineRetailOptions();
        if (options.NegativesPerPurchase is < 0 or > 1000)
            throw new ArgumentOutOfRangeException(nameof(options), options.NegativesPerPurchase, "NegativesPerPurchase must be between 0 and 1000");
        _csv = new CsvInteractionSource(path, ColumnMapping.Parse(Mapping), new CsvReplayOptions
        {
            Name = "online-retail",
            EventIdPrefix = "or-",
            DefaultAction = ClickAction.BUY,
            NegativesPerPositive = options.NegativesPerPurchase,
            Seed = options.Seed,
            // Unit prices vary per line with the wholesale quantity tier (48,362 price-only changes in the file):
            // they are not catalog price changes, so only a new description republishes an item.
            ItemUpdateOnPriceChange = false,
        }, new OnlineRetailRules(options.DerivedCategoryAsPath));
    }

    public string Name => _csv.Name;
    public ReplaySourceStats Stats => _csv.Stats;
    public IEnumerable<ReplayRecord> Read(CancellationToken ct = default) => _csv.Read(ct);
}

/// <summary>
/// Online Retail quirks, checked in this order (a row is counted under the first reason that applies):
/// cancellation (invoice starts with C), adjustment (A: bad-debt adjustments), non_positive_quantity,
/// non_positive_price, non_product_code (postage, fees, manual lines, vouchers, ad-hoc codes), then the generic
/// missing_user. Repeated lines of one invoice with the same item, quantity, time and price are one purchase
/// (duplicate_row): the event id is derived from exactly those fields.
/// </summary>
public sealed class OnlineRetailRules(bool derivedCategoryAsPath = true) : ICsvRowRules
{
    /// <summary>Stock codes that are not products (the data set's README lists them).</summary>
    public static readonly IReadOnlySet<string> NonProductCodes = new HashSet<string>(StringComparer.Ordinal)
    {
        "POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B", "PADS",
    };

    public const string Cancellation = "cancellation", Adjustment = "adjustment", NonPositiveQuantity = "non_positive_quantity",
        NonPositivePrice = "non_positive_price", NonProductCode = "non_product_code", BadQuantity = "bad_quantity";

    private int _invoice = -1, _stockCode = -1, _quantity = -1, _date = -1, _price = -1;

    /// <summary>Also not products: gift vouchers (gift_0001_10 …) and ad-hoc item codes (DCGSSBOY, DCGS0003 …).</summary>
    public static bool IsNonProductCode(string stockCode) =>
        NonProductCodes.Contains(stockCode)
        || stockCode.StartsWith("gift_0001_", StringComparison.Ordinal) || stockCode.StartsWith("DCGS", StringComparison.Ordinal);

    public void Bind(CsvHeader header)
    {
        _invoice = header.IndexOf("InvoiceNo", "Online Retail invoice");
        _stockCode = header.IndexOf("StockCode", "Online Retail stock code");
        _quantity = header.IndexOf("Quantity", "Online Retail quantity");
        _date = header.IndexOf("InvoiceDate", "Online Retail invoice date");
        _price = header.IndexOf("UnitPrice", "Online Retail unit price");
    }

    public string? SkipReason(string[] fields)
    {
        var invoice = fields[_invoice].Trim();
        if (invoice.StartsWith('C')) return Cancellation;
        if (invoice.StartsWith('A')) return Adjustment;
        if (!long.TryParse(fields[_quantity], NumberStyles.Integer, CultureInfo.InvariantCulture, out var quantity)) return BadQuantity;
        if (quantity <= 0) return NonPositiveQuantity;
        // An unparseable price is left to the generic "bad_price" check.
        if (double.TryParse(fields[_price], NumberStyles.Float, CultureInfo.InvariantCulture, out var price) && price <= 0)
            return NonPositivePrice;
        if (IsNonProductCode(fields[_stockCode].Trim())) return NonProductCode;
        return null;
    }

    public string[] EventIdentity(string[] fields) =>
        [fields[_invoice].Trim(), fields[_stockCode].Trim(), fields[_quantity].Trim(), fields[_date].Trim(), fields[_price].Trim()];

    public void DescribeItem(ItemUpdate item, string[] fields)
    {
        item.Attributes["currency"] = "GBP";
        if (OnlineRetailCategories.Derive(item.Title) is not { } category) return;
        item.Attributes["derived_category"] = category;
        if (derivedCategoryAsPath) item.CategoryPath = [category];
    }
}

/// <summary>Finds the shared Online Retail files.</summary>
public static class OnlineRetailData
{
    public const string EnvironmentVariable = "REASEQ_ONLINE_RETAIL_DIR";
    public const string FullFileName = "online_retail.csv.gz";
    public const string SampleFileName = "online_retail_sample.csv";
    private static readonly string RelativeDirectory = Path.Combine("shared", "data", "online-retail");

    /// <summary>
    /// The data directory: <see cref="EnvironmentVariable"/> when set, else the first <c>shared/data/online-retail</c>
    /// found beside the working directory or the program, or one of their ancestors. Null when none exists.
    /// </summary>
    public static string? FindDirectory()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
            return Directory.Exists(configured) ? Path.GetFullPath(configured) : null;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, RelativeDirectory);
                if (Directory.Exists(candidate)) return candidate;
            }
        return null;
    }
}
