using System.Text;
using ReaSeq.Tests.Replay;

namespace ReaSeq.Tests.Eval;

/// <summary>Writes an eval test's input as an Online Retail file: the UCI export's header, then the given rows.</summary>
internal static class OnlineRetailCsv
{
    public const string Header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";

    public static string Write(TempDir dir, string name, IEnumerable<string> rows)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var row in rows) text.Append(row).Append('\n');
        return dir.Write(name, text.ToString());
    }
}
