using System.Text.Json;

namespace ReaSeq.Models.Training;

/// <summary>
/// The file layout trained models share: a magic tag, a length-prefixed JSON header (format, version, shape, options),
/// then the TorchSharp state dict. Written to a temporary file and moved into place, so a reader never sees half a model.
/// </summary>
public static class ModelFile
{
    private const int MaxHeaderBytes = 1 << 20;

    public static void Write<THeader>(string path, byte[] magic, THeader header, Action<BinaryWriter> writeWeights)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        string temporary = path + ".tmp";
        using (var stream = File.Create(temporary)) Write(stream, magic, header, writeWeights);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The same layout into a stream (e.g. a checkpoint stored in PostgreSQL); the stream stays open.</summary>
    public static void Write<THeader>(Stream stream, byte[] magic, THeader header, Action<BinaryWriter> writeWeights)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(magic);
        writer.Write(json.Length);
        writer.Write(json);
        writeWeights(writer);
    }

    /// <summary>Checks the tag and reads the header; the returned reader stands at the weights (the caller disposes it).</summary>
    public static (THeader Header, BinaryReader Weights) Open<THeader>(string path, byte[] magic, string kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No {kind} at {path}.", path);
        return Open<THeader>(File.OpenRead(path), magic, kind, path);
    }

    /// <summary>Like the file overload, over a stream the returned reader owns; <paramref name="name"/> names it in errors.</summary>
    public static (THeader Header, BinaryReader Weights) Open<THeader>(Stream stream, byte[] magic, string kind, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string path = name;
        var reader = new BinaryReader(stream);
        try
        {
            if (!reader.ReadBytes(magic.Length).AsSpan().SequenceEqual(magic))
                throw new InvalidDataException($"{path} is not a {kind} file.");
            int headerLength = reader.ReadInt32();
            if (headerLength <= 0 || headerLength > MaxHeaderBytes)
                throw new InvalidDataException($"{path} has a corrupt header length ({headerLength}).");
            var header = JsonSerializer.Deserialize<THeader>(reader.ReadBytes(headerLength))
                ?? throw new InvalidDataException($"{path} has an empty header.");
            return (header, reader);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }
}
