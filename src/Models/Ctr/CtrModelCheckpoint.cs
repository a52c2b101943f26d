using System.Text;
using System.Text.Json;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// The bytes a CTR model version is stored as in the registry (ctr_models.checkpoint): a magic tag, a
/// length-prefixed JSON header (format and the model's options) and the TorchSharp state dict.
/// </summary>
public static class CtrModelCheckpoint
{
    private const int Format = 1;
    private const int MaxHeaderBytes = 1 << 20;
    private static readonly byte[] Magic = "REACTRv1"u8.ToArray();

    public static byte[] Save(CtrModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            byte[] header = JsonSerializer.SerializeToUtf8Bytes(new Header(Format, model.Options));
            writer.Write(Magic);
            writer.Write(header.Length);
            writer.Write(header);
            model.save(writer);
        }
        return buffer.ToArray();
    }

    /// <summary>The options a checkpoint was trained with, without loading its weights.</summary>
    public static CtrModelOptions ReadOptions(byte[] checkpoint)
    {
        using var reader = Open(checkpoint, out var header);
        return header.Options;
    }

    /// <summary>
    /// The model in <paramref name="checkpoint"/>, for further training or inspection. <paramref name="device"/>
    /// overrides the device the checkpoint was trained on (e.g. "cpu" to serve a model trained on CUDA).
    /// </summary>
    public static CtrModel LoadModel(byte[] checkpoint, string? device = null)
    {
        using var reader = Open(checkpoint, out var header);
        var options = header.Options;
        if (device is not null) options.Device = device;
        var model = CtrModel.Create(options);
        try
        {
            model.load(reader);
            return model;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"The CTR checkpoint's weights do not match its header ({options.PathwayName}): {e.Message}", e);
        }
    }

    /// <summary>A scorer over the checkpoint's model, labelled <paramref name="version"/>; set to inference mode.</summary>
    public static ICtrScorer Load(byte[] checkpoint, string version, string? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(version);
        return new CtrScorer(LoadModel(checkpoint, device), version);
    }

    private static BinaryReader Open(byte[] checkpoint, out Header header)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.Length < Magic.Length + sizeof(int) || !checkpoint.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("The bytes are not a CTR model checkpoint (bad magic tag).");
        var reader = new BinaryReader(new MemoryStream(checkpoint, writable: false));
        try
        {
            reader.ReadBytes(Magic.Length);
            int length = reader.ReadInt32();
            if (length <= 0 || length > MaxHeaderBytes || length > checkpoint.Length - Magic.Length - sizeof(int))
                throw new InvalidDataException($"The CTR checkpoint has a corrupt header length ({length}).");
            header = JsonSerializer.Deserialize<Header>(reader.ReadBytes(length))
                ?? throw new InvalidDataException("The CTR checkpoint has an empty header.");
            if (header.Format != Format) throw new InvalidDataException($"Unsupported CTR checkpoint format {header.Format}.");
            header.Options.Validate();
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private sealed record Header(int Format, CtrModelOptions Options);
}
