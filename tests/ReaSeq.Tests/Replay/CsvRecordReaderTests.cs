using System.Text;
using CsCheck;
using ReaSeq.Ingestors.Replay.Csv;

namespace ReaSeq.Tests.Replay;

public sealed class CsvRecordReaderTests
{
    private static List<string[]> ReadAll(string text)
    {
        using var reader = new CsvRecordReader(new StringReader(text), "test.csv");
        var records = new List<string[]>();
        while (reader.ReadRecord() is { } r) records.Add(r);
        return records;
    }

    [Fact]
    public void Quoted_fields_keep_commas_escaped_quotes_and_line_breaks()
    {
        var records = ReadAll("a,\"b, with comma\",\"say \"\"hi\"\"\",\"two\nlines\"\n");
        Assert.Single(records);
        Assert.Equal(["a", "b, with comma", "say \"hi\"", "two\nlines"], records[0]);
    }

    [Fact]
    public void Trailing_spaces_and_empty_fields_are_kept_verbatim()
    {
        var records = ReadAll("x ,, y,\"\"\n,\n");
        Assert.Equal(["x ", "", " y", ""], records[0]);
        Assert.Equal(["", ""], records[1]);
    }

    [Fact]
    public void Crlf_and_lf_line_ends_and_missing_final_newline_give_the_same_records()
    {
        var lf = ReadAll("h1,h2\n1,\"a\"\n2,b");
        var crlf = ReadAll("h1,h2\r\n1,\"a\"\r\n2,b\r\n");
        Assert.Equal(3, lf.Count);
        Assert.Equal(lf, crlf);
        Assert.Equal(["2", "b"], crlf[2]);
    }

    [Fact]
    public void Unclosed_quote_is_reported_with_the_line_where_it_opened()
    {
        var error = Assert.Throws<CsvFormatException>(() => ReadAll("a,b\nc,\"never closed\nmore\n"));
        Assert.Contains("test.csv, line 2", error.Message);
        Assert.Contains("never closed", error.Message);
    }

    [Fact]
    public void Text_after_a_closing_quote_is_an_error()
    {
        var error = Assert.Throws<CsvFormatException>(() => ReadAll("\"abc\"x,1\n"));
        Assert.Contains("after a closing quote", error.Message);
    }

    [Fact]
    public void Records_report_the_line_they_start_on()
    {
        using var reader = new CsvRecordReader(new StringReader("h\n\"a\nb\"\nc\n"), "t");
        reader.ReadRecord();
        reader.ReadRecord();
        Assert.Equal(2, reader.RecordLine);
        reader.ReadRecord();
        Assert.Equal(4, reader.RecordLine);
    }

    [Fact]
    public void Gzip_is_detected_by_magic_bytes_not_by_name()
    {
        using var dir = new TempDir();
        const string text = "h1,h2\n\"é, ü\",2\n";
        var gzipNamedCsv = dir.WriteGzip("data.csv", text);
        var plainNamedGz = dir.Write("data.csv.gz", text);
        foreach (var path in new[] { gzipNamedCsv, plainNamedGz })
        {
            using var reader = new CsvRecordReader(CsvRecordReader.OpenText(path), path);
            Assert.Equal(["h1", "h2"], reader.ReadRecord()!);
            Assert.Equal(["é, ü", "2"], reader.ReadRecord()!);
            Assert.Null(reader.ReadRecord()!);
        }
        Assert.Equal([0x1F, 0x8B], File.ReadAllBytes(gzipNamedCsv)[..2]);
    }

    [Fact]
    public void Non_seekable_streams_are_sniffed_without_losing_bytes()
    {
        using var dir = new TempDir();
        var gz = File.ReadAllBytes(dir.WriteGzip("a.gz", "x,y\n1,2\n"));
        foreach (var bytes in new[] { gz, Encoding.UTF8.GetBytes("x,y\n1,2\n") })
        {
            using var reader = new CsvRecordReader(CsvRecordReader.OpenText(new ForwardOnlyStream(bytes)), "stream");
            Assert.Equal(["x", "y"], reader.ReadRecord()!);
            Assert.Equal(["1", "2"], reader.ReadRecord()!);
        }
    }

    [Fact]
    public void Utf8_byte_order_mark_is_not_part_of_the_first_column()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "bom.csv");
        File.WriteAllText(path, "user,item\nu,i\n", new UTF8Encoding(true));
        using var reader = new CsvRecordReader(CsvRecordReader.OpenText(path), path);
        Assert.Equal(["user", "item"], reader.ReadRecord()!);
    }

    [Fact]
    public void Any_fields_written_by_rfc4180_rules_read_back_unchanged()
    {
        var field = Gen.String[Gen.Char["ab ,\"\r\n"], 0, 6];
        var record = field.Array[1, 4];
        Gen.Select(record.Array[1, 5], Gen.Bool).Sample((records, crlf) =>
        {
            var text = new StringBuilder();
            foreach (var r in records)
            {
                text.AppendJoin(',', r.Select(Quote));
                text.Append(crlf ? "\r\n" : "\n");
            }
            var read = ReadAll(text.ToString());
            Assert.Equal(records.Length, read.Count);
            for (var i = 0; i < records.Length; i++) Assert.Equal(records[i], read[i]);
        });

        // A record of one empty field would be a blank line; quoting it keeps it distinct.
        static string Quote(string f) => f.Length == 0 || f.IndexOfAny([',', '"', '\r', '\n', ' ']) >= 0
            ? "\"" + f.Replace("\"", "\"\"") + "\""
            : f;
    }

    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
    }
}
