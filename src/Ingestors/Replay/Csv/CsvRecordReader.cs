using System.IO.Compression;
using System.Text;

namespace ReaSeq.Ingestors.Replay.Csv;

/// <summary>
/// Streaming RFC 4180 reader: comma separated, fields optionally quoted, <c>""</c> escapes a quote inside quotes,
/// commas and line breaks allowed inside quotes, CRLF or LF record ends. Field text is returned verbatim
/// (no trimming: trailing spaces are data, callers trim where the meaning says so).
/// </summary>
public sealed class CsvRecordReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly string _sourceName;
    private readonly char[] _buffer = new char[64 * 1024];
    private int _position;
    private int _length;
    private readonly StringBuilder _field = new();
    private readonly List<string> _fields = [];

    public CsvRecordReader(TextReader reader, string sourceName = "input")
    {
        _reader = reader;
        _sourceName = sourceName;
    }

    /// <summary>1-based line on which the last returned record started.</summary>
    public long RecordLine { get; private set; }

    private long _line = 1;

    /// <summary>
    /// Opens a file for reading as text, gunzipping when it starts with the gzip magic bytes 1F 8B (whatever its
    /// name says). A UTF-8 byte-order mark is skipped.
    /// </summary>
    public static TextReader OpenText(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            return OpenText(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>As <see cref="OpenText(string)"/> for any stream; takes ownership of it.</summary>
    public static TextReader OpenText(Stream stream)
    {
        var buffered = stream.CanSeek ? stream : new BufferedStream(stream, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        var got = ReadUpTo(buffered, magic, out var peeked);
        var isGzip = got == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        Stream content = buffered.CanSeek
            ? Rewind(buffered)
            : new PrefixedStream(peeked, buffered);
        if (isGzip) content = new GZipStream(content, CompressionMode.Decompress);
        return new StreamReader(content, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, 1 << 16);
    }

    private static int ReadUpTo(Stream stream, Span<byte> into, out byte[] peeked)
    {
        var total = 0;
        while (total < into.Length)
        {
            var n = stream.Read(into[total..]);
            if (n == 0) break;
            total += n;
        }
        peeked = into[..total].ToArray();
        return total;
    }

    private static Stream Rewind(Stream stream)
    {
        stream.Position = 0;
        return stream;
    }

    /// <summary>Next record's fields, or null at end of input. The array is fresh for every record.</summary>
    public string[]? ReadRecord()
    {
        _fields.Clear();
        RecordLine = _line;
        if (!Fill()) return null;

        while (true)
        {
            // Start of a field.
            if (!Fill())
            {
                _fields.Add("");
                return _fields.ToArray();
            }
            if (_buffer[_position] == '"')
            {
                _position++;
                _fields.Add(ReadQuoted());
            }
            else
            {
                _fields.Add(ReadUnquoted());
            }

            if (!Fill()) return _fields.ToArray();
            var c = _buffer[_position++];
            if (c == ',') continue;
            if (c == '\r')
            {
                if (Fill() && _buffer[_position] == '\n') _position++;
                _line++;
                return _fields.ToArray();
            }
            if (c == '\n')
            {
                _line++;
                return _fields.ToArray();
            }
            throw new CsvFormatException($"{_sourceName}, line {_line}: unexpected character '{c}' after a closing quote");
        }
    }

    private string ReadUnquoted()
    {
        _field.Clear();
        while (Fill())
        {
            var start = _position;
            var end = _buffer.AsSpan(start, _length - start).IndexOfAny(',', '\r', '\n');
            _position = end < 0 ? _length : start + end;
            // Common case: the whole field lies in the buffer, so no builder is needed.
            if (end >= 0 && _field.Length == 0) return new string(_buffer, start, end);
            _field.Append(_buffer, start, _position - start);
            if (end >= 0) break;
        }
        var text = _field.ToString();
        _field.Clear();
        return text;
    }

    private string ReadQuoted()
    {
        _field.Clear();
        var openedOn = _line;
        while (true)
        {
            if (!Fill())
                throw new CsvFormatException($"{_sourceName}, line {openedOn}: quoted field is never closed");
            var c = _buffer[_position++];
            if (c == '"')
            {
                if (Fill() && _buffer[_position] == '"')
                {
                    _field.Append('"');
                    _position++;
                    continue;
                }
                var text = _field.ToString();
                _field.Clear();
                return text;
            }
            if (c == '\n') _line++;
            _field.Append(c);
        }
    }

    private bool Fill()
    {
        if (_position < _length) return true;
        _length = _reader.Read(_buffer, 0, _buffer.Length);
        _position = 0;
        return _length > 0;
    }

    public void Dispose() => _reader.Dispose();

    /// <summary>Replays bytes already read from a non-seekable stream before the rest of it.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : Stream
    {
        private int _offset;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) rest.Dispose();
            base.Dispose(disposing);
        }
    }
}
