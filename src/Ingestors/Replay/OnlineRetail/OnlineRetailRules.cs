using System.Globalization;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Ingestors.Replay.OnlineRetail;

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
