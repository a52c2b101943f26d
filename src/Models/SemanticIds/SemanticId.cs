namespace ReaSeq.Models.SemanticIds;

/// <summary>
/// A discrete item id: one code per quantization level, plus the version of the tokenizer that produced it.
/// Codes from different model versions are unrelated, so equality includes the version.
/// </summary>
public sealed class SemanticId : IEquatable<SemanticId>
{
    private readonly int[] _codes;

    public SemanticId(IReadOnlyList<int> codes, string modelVersion)
    {
        ArgumentNullException.ThrowIfNull(codes);
        ArgumentException.ThrowIfNullOrWhiteSpace(modelVersion);
        if (codes.Count == 0) throw new ArgumentException("A semantic id needs at least one code.", nameof(codes));
        _codes = codes.ToArray();
        ModelVersion = modelVersion;
    }

    public IReadOnlyList<int> Codes => _codes;

    public string ModelVersion { get; }

    /// <summary>"12-3-255", the codes alone, e.g. for use as a token string.</summary>
    public string CodeString => string.Join('-', _codes);

    public override string ToString() => $"{CodeString}@{ModelVersion}";

    public bool Equals(SemanticId? other) =>
        other is not null && ModelVersion == other.ModelVersion && _codes.AsSpan().SequenceEqual(other._codes);

    public override bool Equals(object? obj) => Equals(obj as SemanticId);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(ModelVersion, StringComparer.Ordinal);
        foreach (int code in _codes) hash.Add(code);
        return hash.ToHashCode();
    }
}

/// <summary>How well a tokenizer separates and preserves a set of items.</summary>
/// <param name="Items"></param>
/// <param name="DistinctIds"></param>
/// <param name="CollisionRate">Fraction of items whose full id is shared with at least one other item.</param>
/// <param name="CodebookUsagePerLevel">Per level, the fraction of codes that at least one item uses.</param>
/// <param name="ReconstructionMse">Mean squared error between the items and their decoded reconstructions.</param>
public sealed record SemanticIdQualityReport(
    int Items,
    int DistinctIds,
    double CollisionRate,
    IReadOnlyList<double> CodebookUsagePerLevel,
    double ReconstructionMse);

/// <summary>Progress after one training epoch; losses are means over the epoch's batches.</summary>
public sealed record RqVaeEpochReport(
    int Epoch,
    int Epochs,
    double Loss,
    double ReconstructionLoss,
    double CodebookLoss,
    double CommitmentLoss,
    IReadOnlyList<double> CodebookUsagePerLevel,
    long DeadCodesReset);
