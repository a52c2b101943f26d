using System.Runtime.InteropServices;
using System.Text;

namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// Binary file of the embedded index (little-endian):
/// header [magic "RSQVIDX1", version, dimension, count, distance] · vectors (count × dimension float32, row-major,
/// already unit length) · metadata length (int64) · metadata (per row: id, payload count, key/value strings) ·
/// checksum (FNV-1a over the vectors and the metadata, 64-bit words) · end magic "RSQVEND1".
/// Written to a temporary file and renamed over the old one, so a crash leaves either the old or the new file.
/// </summary>
internal static class VectorIndexFile
{
    public const int CurrentVersion = 1;
    private const int HeaderBytes = 8 + 4 * 4;
    private const int DistanceCosine = 1;
    private static readonly byte[] StartMagic = "RSQVIDX1"u8.ToArray();
    private static readonly byte[] EndMagic = "RSQVEND1"u8.ToArray();

    internal sealed record Contents(
        int Dimension, int Count, float[] Vectors, string[] Ids, IReadOnlyDictionary<string, string>[] Payloads);

    public static void Write(
        string path, int dimension, int count, ReadOnlySpan<float> vectors, ReadOnlySpan<string> ids,
        ReadOnlySpan<IReadOnlyDictionary<string, string>> payloads)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var metadata = new MemoryStream();
        using (var metadataWriter = new BinaryWriter(metadata, Encoding.UTF8, leaveOpen: true))
        {
            for (int row = 0; row < count; row++)
            {
                metadataWriter.Write(ids[row]);
                metadataWriter.Write(payloads[row].Count);
                foreach (var (key, value) in payloads[row])
                {
                    metadataWriter.Write(key);
                    metadataWriter.Write(value);
                }
            }
        }

        var vectorBytes = MemoryMarshal.AsBytes(vectors[..(count * dimension)]);
        var metadataBytes = metadata.GetBuffer().AsSpan(0, (int)metadata.Length);
        ulong checksum = Checksum(metadataBytes, Checksum(vectorBytes, FnvOffset));

        var temporaryPath = path + ".tmp";
        using (var stream = new FileStream(temporaryPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(StartMagic);
            writer.Write(CurrentVersion);
            writer.Write(dimension);
            writer.Write(count);
            writer.Write(DistanceCosine);
            writer.Write(vectorBytes);
            writer.Write(metadata.Length);
            writer.Write(metadataBytes);
            writer.Write(checksum);
            writer.Write(EndMagic);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    public static Contents Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        try
        {
            return ReadContents(stream, reader, path);
        }
        catch (EndOfStreamException)
        {
            throw Corrupt(path, "it ends before its declared contents (truncated)");
        }
        catch (FormatException error)
        {
            throw Corrupt(path, $"its metadata cannot be decoded ({error.Message})");
        }
    }

    private static Contents ReadContents(FileStream stream, BinaryReader reader, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < HeaderBytes || !reader.ReadBytes(StartMagic.Length).AsSpan().SequenceEqual(StartMagic))
        {
            throw Corrupt(path, "it does not start with the vector index magic bytes");
        }

        int version = reader.ReadInt32();
        if (version != CurrentVersion)
        {
            throw Corrupt(path, $"format version {version} is not supported (expected {CurrentVersion})");
        }

        int dimension = reader.ReadInt32();
        int count = reader.ReadInt32();
        int distance = reader.ReadInt32();
        long vectorByteCount = (long)count * dimension * sizeof(float);
        // Check the declared sizes against the file length before allocating anything from them.
        if (dimension <= 0 || count < 0 || distance != DistanceCosine || (long)count * dimension > Array.MaxLength
            || HeaderBytes + vectorByteCount + 8 + 8 + EndMagic.Length > fileLength)
        {
            throw Corrupt(path, $"its header is inconsistent (dimension {dimension}, count {count}, distance {distance}, {fileLength} bytes)");
        }

        var vectors = new float[Math.Max(count * dimension, dimension)];
        var vectorBytes = MemoryMarshal.AsBytes(vectors.AsSpan(0, count * dimension));
        stream.ReadExactly(vectorBytes);

        long metadataLength = reader.ReadInt64();
        if (metadataLength < 0 || stream.Position + metadataLength + 8 + EndMagic.Length != fileLength)
        {
            throw Corrupt(path, "its metadata length does not match the file length");
        }

        var metadataBytes = new byte[metadataLength];
        stream.ReadExactly(metadataBytes);
        ulong storedChecksum = reader.ReadUInt64();
        if (!reader.ReadBytes(EndMagic.Length).AsSpan().SequenceEqual(EndMagic))
        {
            throw Corrupt(path, "it does not end with the end marker");
        }

        if (Checksum(metadataBytes, Checksum(vectorBytes, FnvOffset)) != storedChecksum)
        {
            throw Corrupt(path, "its checksum does not match its contents");
        }

        var ids = new string[count];
        var payloads = new IReadOnlyDictionary<string, string>[count];
        using var metadataReader = new BinaryReader(new MemoryStream(metadataBytes), Encoding.UTF8);
        for (int row = 0; row < count; row++)
        {
            ids[row] = metadataReader.ReadString();
            int entries = metadataReader.ReadInt32();
            var payload = new Dictionary<string, string>(entries);
            for (int i = 0; i < entries; i++)
            {
                payload[metadataReader.ReadString()] = metadataReader.ReadString();
            }

            payloads[row] = payload;
        }

        return new Contents(dimension, count, vectors, ids, payloads);
    }

    private static InvalidDataException Corrupt(string path, string reason) =>
        new($"Vector index file '{path}' cannot be loaded: {reason}.");

    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>FNV-1a over 64-bit words (then the tail bytes): detects torn or altered files at ~1 GB/s.</summary>
    private static ulong Checksum(ReadOnlySpan<byte> bytes, ulong hash)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        foreach (var word in words)
        {
            hash = (hash ^ word) * FnvPrime;
        }

        foreach (var b in bytes[(words.Length * sizeof(ulong))..])
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return hash;
    }
}
