using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.Representation;

/// <summary>
/// A trained IUI adapter: maps base item vectors to adapted, unit-length ones. Its <see cref="Version"/> hashes the
/// weights and the options (the device aside), so vectors of different adapters never mix silently.
/// </summary>
public sealed class IuiModel : IDisposable
{
    private const int InferenceBatch = 4096;
    private static readonly byte[] FileMagic = "IUIADPv1"u8.ToArray();

    private readonly IuiAdapter _network;

    internal IuiModel(IuiAdapter network)
    {
        _network = network;
        Version = ComputeVersion(network);
    }

    /// <summary>e.g. "iui-384-h512-1f2e3d4c5b6a": width, hidden width and the first 12 hex digits of a SHA-256.</summary>
    public string Version { get; }

    public IuiAdapterOptions Options => _network.Options;

    public int Dimension => _network.Dimension;

    /// <summary>The underlying network, for callers that continue training or inspect it.</summary>
    public IuiAdapter Network => _network;

    /// <summary>Adapted unit vectors; a null base vector (an item without one) stays null.</summary>
    public float[]?[] Adapt(IReadOnlyList<float[]?> baseVectors)
    {
        ArgumentNullException.ThrowIfNull(baseVectors);
        var present = Enumerable.Range(0, baseVectors.Count).Where(i => baseVectors[i] is not null).ToArray();
        var adapted = new float[]?[baseVectors.Count];
        _network.SetTraining(false);
        using var _ = no_grad();
        for (int start = 0; start < present.Length; start += InferenceBatch)
        {
            int count = Math.Min(InferenceBatch, present.Length - start);
            using var scope = NewDisposeScope();
            var batch = IuiTrainer.ToTensor(present.AsSpan(start, count).ToArray().Select(i => baseVectors[i]!).ToList(), Dimension, _network.Device);
            var output = _network.forward(batch).cpu().data<float>().ToArray();
            for (int i = 0; i < count; i++) adapted[present[start + i]] = output.AsSpan(i * Dimension, Dimension).ToArray();
        }
        return adapted;
    }

    /// <summary>Writes a magic tag, a JSON header (format, version, width, options) and the TorchSharp state dict.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ModelFile.Write(path, FileMagic, new ModelFileHeader(1, Version, Dimension, Options), w => _network.save(w));
    }

    /// <summary>The same bytes as <see cref="Save(string)"/>, e.g. for a checkpoint stored in PostgreSQL.</summary>
    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        ModelFile.Write(buffer, FileMagic, new ModelFileHeader(1, Version, Dimension, Options), w => _network.save(w));
        return buffer.ToArray();
    }

    /// <summary>Loads bytes written by <see cref="ToBytes"/>; <paramref name="name"/> names them in errors.</summary>
    public static IuiModel FromBytes(byte[] bytes, string name, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Load(ModelFile.Open<ModelFileHeader>(new MemoryStream(bytes, writable: false), FileMagic, "IUI adapter", name), name, device);
    }

    /// <summary>Loads a file written by <see cref="Save"/>; the weights must hash to the recorded version.</summary>
    public static IuiModel Load(string path, string? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Load(ModelFile.Open<ModelFileHeader>(path, FileMagic, "IUI adapter"), path, device);
    }

    private static IuiModel Load((ModelFileHeader Header, BinaryReader Weights) opened, string path, string? device)
    {
        var (header, reader) = opened;
        using var weights = reader;
        if (header.Format != 1) throw new InvalidDataException($"{path} has unsupported format {header.Format}.");
        var options = header.Options.Clone();
        if (device is not null) options.Device = device;
        var network = new IuiAdapter(header.Dimension, options, TorchDevice.Resolve(options.Device));
        try
        {
            network.load(weights);
            var model = new IuiModel(network);
            if (model.Version != header.Version)
                throw new InvalidDataException($"{path}: weights hash to {model.Version} but the header says {header.Version}; the file is damaged.");
            return model;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    public void Dispose() => _network.Dispose();

    private static string ComputeVersion(IuiAdapter network)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) network.save(writer);
        var options = network.Options;
        options.Device = "";
        buffer.Write(JsonSerializer.SerializeToUtf8Bytes(options));
        string hash = Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
        return $"iui-{network.Dimension}-h{options.HiddenDim}-{hash[..12]}";
    }

    private sealed record ModelFileHeader(int Format, string Version, int Dimension, IuiAdapterOptions Options);
}
