namespace ReaSeq.Models.Representation;

/// <summary>Shape and training of the IUI adapter (paper §4.1.1 "IUI": contrastive learning within user sequences).</summary>
public sealed class IuiAdapterOptions
{
    /// <summary>Width of the residual MLP's hidden layer; 0 makes the residual a single linear map.</summary>
    public int HiddenDim { get; set; }

    /// <summary>Events of one user's time-ordered sequence at most this far apart form a positive pair.</summary>
    public int Window { get; set; } = 3;

    /// <summary>InfoNCE temperature: cosine similarities are divided by it before the softmax over the batch.</summary>
    public double Temperature { get; set; } = 0.1;

    public int Epochs { get; set; } = 3;

    /// <summary>Pairs per optimiser step; the other pairs of the batch are the negatives.</summary>
    public int BatchSize { get; set; } = 512;

    /// <summary>Pairs drawn (without replacement) per epoch; 0 uses every pair once per epoch.</summary>
    public int PairsPerEpoch { get; set; } = 100_000;

    public double LearningRate { get; set; } = 3e-3;

    public double WeightDecay { get; set; }

    public int Seed { get; set; } = 13;

    /// <summary>auto, cpu, cuda or cuda:N (see TorchDevice).</summary>
    public string Device { get; set; } = "cpu";

    public IuiAdapterOptions Clone() => (IuiAdapterOptions)MemberwiseClone();

    public void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, rule);
        }
        Check(HiddenDim >= 0, nameof(HiddenDim), HiddenDim, "must not be negative");
        Check(Window >= 1, nameof(Window), Window, "must be at least 1");
        Check(Temperature is > 0 and <= 10, nameof(Temperature), Temperature, "must be in (0, 10]");
        Check(Epochs >= 1, nameof(Epochs), Epochs, "must be at least 1");
        Check(BatchSize >= 2, nameof(BatchSize), BatchSize, "must be at least 2 (in-batch negatives)");
        Check(PairsPerEpoch >= 0, nameof(PairsPerEpoch), PairsPerEpoch, "must not be negative");
        Check(LearningRate is > 0 and < 1, nameof(LearningRate), LearningRate, "must be in (0, 1)");
        Check(WeightDecay >= 0, nameof(WeightDecay), WeightDecay, "must not be negative");
    }
}
