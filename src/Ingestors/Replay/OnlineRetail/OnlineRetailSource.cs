using ReaSeq.Contracts;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Ingestors.Replay.OnlineRetail;

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
