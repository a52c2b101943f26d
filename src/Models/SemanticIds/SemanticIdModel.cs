using System.Security.Cryptography;
using System.Text;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>
/// A trained RQ-VAE tokenizer: assigns semantic ids to item vectors and reports their quality. Its
/// <see cref="Version"/> is derived from a hash of the weights, so ids from different models never mix silently.
/// </summary>
public sealed class SemanticIdModel : IDisposable
{
    private const int InferenceBatch = 4096;
    private static readonly byte[] FileMagic = "RQVAE\0v1"u8.ToArray();

    private readonly RqVae _network;

    internal SemanticIdModel(RqVae network, RqVaeOptions options)
    {
        _network = network;
        Options = options.Clone();
        Version = ComputeVersion(network);
    }

    /// <summary>e.g. "rqvae-3x256-1f2e3d4c5b6a": levels × codebook size and the first 12 hex digits of the weights' SHA-256.</summary>
    public string Version { get; }

    public RqVaeOptions Options { get; }

    public int InputDim => _network.InputDim;

    public int Levels => _network.Levels;

    public int CodebookSize => _network.CodebookSize;

    /// <summary>The underlying network, for callers that continue training or inspect it.</summary>
    public RqVae Network => _network;

    /// <summary>Codes [item][level] for each vector; every code lies in [0, <see cref="CodebookSize"/>).</summary>
    public int[][] AssignIds(IReadOnlyList<float[]> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        var ids = new int[vectors.Count][];
        _network.SetTraining(false);
        for (int start = 0; start < vectors.Count; start += InferenceBatch)
        {
            int count = Math.Min(InferenceBatch, vectors.Count - start);
            using var scope = NewDisposeScope();
            using var batch = ItemVectorTensors.ToTensor(Slice(vectors, start, count), InputDim, _network.Device);
            var codes = _network.Encode(batch).to(ScalarType.Int32).cpu().data<int>().ToArray();
            for (int i = 0; i < count; i++) ids[start + i] = codes.AsSpan(i * Levels, Levels).ToArray();
        }
        return ids;
    }

    /// <summary>Like <see cref="AssignIds"/>, with each id stamped with <see cref="Version"/>.</summary>
    public SemanticId[] Assign(IReadOnlyList<float[]> vectors) =>
        AssignIds(vectors).Select(codes => new SemanticId(codes, Version)).ToArray();

    public SemanticIdQualityReport Evaluate(IReadOnlyList<float[]> vectors)
    {
        ItemVectorTensors.Dimension(vectors);
        var ids = AssignIds(vectors);
        var groups = ids.GroupBy(id => string.Join('-', id)).ToList();
        int colliding = groups.Where(g => g.Count() > 1).Sum(g => g.Count());
        var usage = Enumerable.Range(0, Levels)
            .Select(level => ids.Select(id => id[level]).Distinct().Count() / (double)CodebookSize)
            .ToArray();

        double squaredError = 0;
        long elements = 0;
        _network.SetTraining(false);
        using (no_grad())
        {
            for (int start = 0; start < vectors.Count; start += InferenceBatch)
            {
                int count = Math.Min(InferenceBatch, vectors.Count - start);
                using var scope = NewDisposeScope();
                var batch = ItemVectorTensors.ToTensor(Slice(vectors, start, count), InputDim, _network.Device);
                var output = _network.forward(batch);
                squaredError += (output.Reconstruction - batch).pow(2).sum().item<float>();
                elements += batch.numel();
            }
        }
        return new SemanticIdQualityReport(
            vectors.Count, groups.Count, colliding / (double)vectors.Count, usage, squaredError / elements);
    }

    /// <summary>
    /// Writes a magic tag, a JSON header (format, version, input width, options) and the TorchSharp state dict.
    /// </summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ModelFile.Write(path, FileMagic, new ModelFileHeader(1, Version, InputDim, Options), w => _network.save(w));
    }

    /// <summary>The same bytes as <see cref="Save(string)"/>, e.g. for a checkpoint stored in PostgreSQL.</summary>
    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        ModelFile.Write(buffer, FileMagic, new ModelFileHeader(1, Version, InputDim, Options), w => _network.save(w));
        return buffer.ToArray();
    }

    /// <summary>Loads bytes written by <see cref="ToBytes"/>; <paramref name="name"/> names them in errors.</summary>
    public static SemanticIdModel FromBytes(byte[] bytes, string name, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Load(ModelFile.Open<ModelFileHeader>(new MemoryStream(bytes, writable: false), FileMagic, "semantic id model", name), name, device);
    }

    /// <summary>Loads a file written by <see cref="Save"/>; the weights must hash to the recorded version.</summary>
    public static SemanticIdModel Load(string path, string? device = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return Load(ModelFile.Open<ModelFileHeader>(path, FileMagic, "semantic id model"), path, device);
    }

    private static SemanticIdModel Load((ModelFileHeader Header, BinaryReader Weights) opened, string path, string? device)
    {
        var (header, reader) = opened;
        using var weights = reader;
        if (header.Format != 1) throw new InvalidDataException($"{path} has unsupported format {header.Format}.");
        var options = header.Options.Clone();
        if (device is not null) options.Device = device;
        var network = new RqVae(header.InputDim, options, TorchDevice.Resolve(options.Device));
        try
        {
            network.load(weights);
            network.CodebooksInitialised = true;
            var model = new SemanticIdModel(network, options);
            if (model.Version != header.Version)
            {
                throw new InvalidDataException(
                    $"{path}: weights hash to {model.Version} but the header says {header.Version}; the file is damaged.");
            }

            return model;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    public void Dispose() => _network.Dispose();

    private static string ComputeVersion(RqVae network)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) network.save(writer);
        string hash = Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()));
        return $"rqvae-{network.Levels}x{network.CodebookSize}-{hash[..12]}";
    }

    private static float[][] Slice(IReadOnlyList<float[]> vectors, int start, int count)
    {
        var slice = new float[count][];
        for (int i = 0; i < count; i++) slice[i] = vectors[start + i];
        return slice;
    }

    private sealed record ModelFileHeader(int Format, string Version, int InputDim, RqVaeOptions Options);
}
