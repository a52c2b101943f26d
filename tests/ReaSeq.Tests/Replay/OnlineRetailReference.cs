using System.Globalization;
using System.IO.Compression;

namespace ReaSeq.Tests.Replay;

/// <summary>One purchase as the reference computes it.</summary>
public sealed record ReferencePurchase(string Invoice, string UserId, string ItemId, long TsMs);

/// <summary>
/// The expected outcome of replaying Online Retail, computed straight from the CSV with a deliberately simple,
/// separate parser (split on commas; only the Description column is ever quoted in this file, so the first two and
/// last five fields are reliable), independent of the replay machinery and of any Kafka path.
/// Rules, restated from the data set's README: customer present; invoice not C (cancellation) or A (adjustment);
/// quantity &gt; 0; price &gt; 0; stock code not a non-product code; repeated (invoice, code, quantity, time, price)
/// lines are one purchase. Sequences keep file order, which is time order.
/// </summary>
public static class OnlineRetailReference
{
    private static readonly HashSet<string> NonProduct = new(StringComparer.Ordinal)
    {
        "POST", "DOT", "M", "m", "C2", "D", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "B", "PADS",
    };

    public static List<ReferencePurchase> Purchases(string csvPath)
    {
        using var stream = File.OpenRead(csvPath);
        using var reader = new StreamReader(csvPath.EndsWith(".gz", StringComparison.Ordinal)
            ? new GZipStream(stream, CompressionMode.Decompress) : stream);
        var header = reader.ReadLine();
        if (header != "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country")
            throw new InvalidDataException($"Unexpected header in {csvPath}: {header}");
        var purchases = new List<ReferencePurchase>();
        var seen = new HashSet<(string, string, string, string, string)>();
        while (reader.ReadLine() is { } line)
        {
            var f = line.Split(',');
            string invoice = f[0], code = f[1], quantity = f[^5], date = f[^4], price = f[^3], customer = f[^2];
            if (customer.Length == 0 || invoice.StartsWith('C') || invoice.StartsWith('A')) continue;
            if (int.Parse(quantity, CultureInfo.InvariantCulture) <= 0) continue;
            if (decimal.Parse(price, CultureInfo.InvariantCulture) <= 0) continue;
            if (NonProduct.Contains(code) || code.StartsWith("gift_0001_", StringComparison.Ordinal) || code.StartsWith("DCGS", StringComparison.Ordinal)) continue;
            if (!seen.Add((invoice, code, quantity, date, price))) continue;
            var ts = DateTime.ParseExact(date, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            purchases.Add(new ReferencePurchase(invoice, customer, code, new DateTimeOffset(ts, TimeSpan.Zero).ToUnixTimeMilliseconds()));
        }
        return purchases;
    }

    /// <summary>Per user, the purchased item ids in publication (time, then file) order.</summary>
    public static Dictionary<string, List<string>> ExpectedClickSequences(string csvPath)
    {
        var sequences = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var p in Purchases(csvPath))
        {
            if (!sequences.TryGetValue(p.UserId, out var items)) sequences[p.UserId] = items = [];
            items.Add(p.ItemId);
        }
        return sequences;
    }
}
