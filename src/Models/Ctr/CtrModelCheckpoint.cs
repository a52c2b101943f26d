using System.Text;
using System.Text.Json;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// The bytes a CTR model version is stored as in the registry (ctr_models.checkpoint): a magic tag, a
/// length-prefixed JSON header (format and the model's options) and the TorchSharp state dict, optionally followed by
/// a training-state section (a tag and the optimiser's state: Adam's moments and step), which only a trainer resuming
/// from the version reads (issue 10 §5: a killed trainer continues exactly where it stopped). Readers that only score
/// stop after the weights, so older checkpoints without the section and newer ones with it load alike.
/// </summary>
public static class CtrModelCheckpoint
{
    private const int Format = 1;
    private const int MaxHeaderBytes = 1 << 20;
    private static readonly byte[] Magic = "REACTRv1"u8.ToArray();
    private static readonly byte[] TrainingTag = "REATRNv1"u8.ToArray();

    /// <summary>The model's bytes; <paramref name="trainingState"/>, when given, writes the training-state section.</summary>
    public static byte[] Save(CtrModel model, Action<BinaryWriter>? trainingState = null)
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
            if (trainingState is not null)
            {
                writer.Write(TrainingTag);
                trainingState(writer);
            }
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
    public static CtrModel LoadModel(byte[] checkpoint, string? device = null) => LoadModel(checkpoint, device, null);

    /// <summary>
    /// The model in <paramref name="checkpoint"/>; when the checkpoint has a training-state section,
    /// <paramref name="trainingState"/> reads it (given the loaded model, e.g. to build its optimiser first); without
    /// the section it is not called.
    /// </summary>
    public static CtrModel LoadModel(byte[] checkpoint, string? device, Action<CtrModel, BinaryReader>? trainingState)
    {
        using var reader = Open(checkpoint, out var header);
        var options = header.Options;
        if (device is not null) options.Device = device;
        var model = CtrModel.Create(options);
        try
        {
            model.load(reader);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw new InvalidDataException($"The CTR checkpoint's weights do not match its header ({options.PathwayName}): {e.Message}", e);
        }
        if (trainingState is null || reader.BaseStream.Length - reader.BaseStream.Position < TrainingTag.Length) return model;
        try
        {
            if (!reader.ReadBytes(TrainingTag.Length).AsSpan().SequenceEqual(TrainingTag))
                throw new InvalidDataException("The CTR checkpoint has unknown bytes after its weights.");
            trainingState(model, reader);
            return model;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            model.Dispose();
            throw e as InvalidDataException ?? new InvalidDataException($"The CTR checkpoint's training state does not match its model: {e.Message}", e);
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
