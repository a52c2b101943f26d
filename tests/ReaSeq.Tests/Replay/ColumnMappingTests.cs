using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Tests.Replay;

public sealed class ColumnMappingTests
{
    [Fact]
    public void Parses_roles_context_and_attributes()
    {
        var mapping = ColumnMapping.Parse(" user=CustomerID, item=StockCode,ts=InvoiceDate,title=Description,ctx.invoice=InvoiceNo,attr.brand=Brand ");
        Assert.Equal("CustomerID", mapping.ColumnFor(ColumnMapping.User));
        Assert.Equal("Description", mapping.ColumnFor(ColumnMapping.Title));
        Assert.Null(mapping.ColumnFor(ColumnMapping.Price));
        Assert.Equal([new("invoice", "InvoiceNo")], mapping.Context);
        Assert.Equal([new("brand", "Brand")], mapping.Attributes);
    }

    [Theory]
    [InlineData("user=U,item=I", "required role 'ts'")]
    [InlineData("user=U,item=I,ts=T,usr=X", "Unknown mapping role 'usr'")]
    [InlineData("user=U,item=I,ts=T,user=V", "'user' is given twice")]
    [InlineData("user=U,item,ts=T", "'item' is not role=Column")]
    [InlineData("  ", "empty")]
    public void Malformed_mappings_are_explained(string text, string expected)
    {
        var error = Assert.Throws<ColumnMappingException>(() => ColumnMapping.Parse(text));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_column_missing_from_the_header_is_named_and_the_header_listed()
    {
        var header = new CsvHeader(["InvoiceNo", "StockCode", "InvoiceDate"], "retail.csv");
        var mapping = ColumnMapping.Parse("user=CustomerID,item=StockCode,ts=InvoiceDate");
        var error = Assert.Throws<ColumnMappingException>(() => mapping.Bind(header));
        Assert.Contains("'CustomerID' (mapped to user)", error.Message);
        Assert.Contains("retail.csv", error.Message);
        Assert.Contains("Header columns: InvoiceNo, StockCode, InvoiceDate", error.Message);
    }

    [Theory]
    [InlineData("2010-12-01 08:26:00", 1291191960000)]
    [InlineData("2010-12-01 08:26", 1291191960000)]
    [InlineData("2010-12-01T08:26:00Z", 1291191960000)]
    [InlineData("2010-12-01T09:26:00+01:00", 1291191960000)]
    [InlineData("2010-12-01T08:26:00.250Z", 1291191960250)]
    [InlineData("1291191960", 1291191960000)]
    [InlineData("1291191960.5", 1291191960500)]
    [InlineData("1291191960000", 1291191960000)]
    [InlineData(" 1291191960000 ", 1291191960000)]
    public void Timestamps_in_iso_and_unix_forms_parse_to_utc_milliseconds(string text, long expected)
    {
        Assert.True(TimestampParser.TryParseUnixMs(text, out var ms));
        Assert.Equal(expected, ms);
    }

    [Theory]
    [InlineData("")]
    [InlineData("yesterday")]
    [InlineData("2010-13-01 08:26:00")]
    [InlineData("2011-02-30 08:26:00")]
    [InlineData("1e30")]
    public void Invalid_timestamps_are_rejected(string text) => Assert.False(TimestampParser.TryParseUnixMs(text, out _));
}
