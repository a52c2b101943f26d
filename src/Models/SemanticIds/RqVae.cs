using ReaSeq.Models.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>Everything one RQ-VAE forward pass produces; the losses are scalars.</summary>
public sealed record RqVaeOutput(
    Tensor Reconstruction,
    Tensor Codes,
    Tensor ReconstructionLoss,
    Tensor CodebookLoss,
    Tensor CommitmentLoss,
    Tensor Loss);

/// <summary>
/// Residual-quantized autoencoder of paper Appendix C: a linear adapter projects an item vector to the latent
/// space, <see cref="RqVaeOptions.Levels"/> codebooks quantize it residual by residual, and an MLP decoder
/// reconstructs the input from the sum of the chosen codes. Loss = MSE reconstruction + codebook loss
/// + β·commitment, with a straight-through estimator carrying decoder gradients past the quantizer.
/// Batch field: <see cref="VectorField"/> [batch, inputDim] float32. <see cref="Predict"/> returns codes [batch, levels].
/// </summary>
public sealed class RqVae : nn.Module<Tensor, RqVaeOutput>, ITrainableModel
{
    public const string VectorField = "vector";

    // Field names become state-dict keys.
    private readonly Linear adapter;
    private readonly Parameter codebooks;
    private readonly nn.Module<Tensor, Tensor> decoder;

    private readonly RqVaeOptions _options;
    private readonly Random _random;
    private readonly CodebookUpkeep _upkeep;
    private readonly Device _device;

    public RqVae(int inputDim, RqVaeOptions options, Device device) : base("rqvae")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (inputDim <= 0) throw new ArgumentOutOfRangeException(nameof(inputDim), inputDim, "Input width must be positive.");
        InputDim = inputDim;
        _options = options.Clone();
        _random = new Random(options.Seed);

        // Built directly on the target device, so no field ever points at a stale CPU copy.
        adapter = nn.Linear(inputDim, options.LatentDim, device: device);
        // Placeholder scale only: real values come from k-means on the first batch.
        codebooks = new Parameter(randn(new long[] { options.Levels, options.CodebookSize, options.LatentDim }, device: device) * 0.1f);
        decoder = options.DecoderHiddenDim == 0
            ? nn.Linear(options.LatentDim, inputDim, device: device)
            : nn.Sequential(
                ("hidden", nn.Linear(options.LatentDim, options.DecoderHiddenDim, device: device)),
                ("activation", nn.ReLU()),
                ("output", nn.Linear(options.DecoderHiddenDim, inputDim, device: device)));
        RegisterComponents();
        _device = device;
        _upkeep = new CodebookUpkeep(options.Levels, options.CodebookSize, device);
    }

    public string Name => "rqvae";

    public Device Device => _device;

    public int InputDim { get; }

    public int Levels => _options.Levels;

    public int CodebookSize => _options.CodebookSize;

    /// <summary>False until k-means has seeded the codebooks (explicitly or on the first training batch).</summary>
    public bool CodebooksInitialised { get; internal set; }

    /// <summary>Codes re-seeded since construction because they went unused too long.</summary>
    public long DeadCodesReset => _upkeep.TotalReset;

    public IEnumerable<Parameter> TrainableParameters() => parameters();

    public void SetTraining(bool training) => train(training);

    public Tensor CalculateLoss(Interaction batch) => forward(batch[VectorField]).Loss;

    public Tensor Predict(Interaction batch) => Encode(batch[VectorField]);

    /// <summary>
    /// Ends a training epoch over <paramref name="items"/> (all the training items): codes no item chose for
    /// <see cref="RqVaeOptions.DeadCodeResetEpochs"/> epochs are re-seeded. Returns the number re-seeded.
    /// </summary>
    public int OnEpochCompleted(Tensor items)
    {
        CheckInput(items);
        if (_options.DeadCodeResetEpochs == 0) return 0;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // A copy in torch's own (aligned) memory: a tensor over a managed array may start at any alignment, and the
        // matmul kernels then round differently from run to run, which would break exact repetition for a seed.
        return _upkeep.EndEpoch(codebooks, adapter.forward(items.clone()), _options.DeadCodeResetEpochs, _random);
    }

    public override RqVaeOutput forward(Tensor input)
    {
        CheckInput(input);
        if (training && !CodebooksInitialised) InitialiseCodebooks(input);
        var latent = adapter.forward(input);
        var (codes, quantized, codebookLoss, commitmentLoss) = Quantize(latent, trackUsage: training);
        // Straight-through: the decoder sees the quantized vector, gradients reach the adapter as if it were identity.
        var straightThrough = latent + (quantized - latent).detach();
        var reconstruction = decoder.forward(straightThrough);
        var reconstructionLoss = nn.functional.mse_loss(reconstruction, input);
        var loss = reconstructionLoss + codebookLoss + _options.Beta * commitmentLoss;
        return new RqVaeOutput(reconstruction, codes, reconstructionLoss, codebookLoss, commitmentLoss, loss);
    }

    /// <summary>Semantic ids [batch, levels] (int64) without building a graph.</summary>
    public Tensor Encode(Tensor input)
    {
        CheckInput(input);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Quantize(adapter.forward(input), trackUsage: false).Codes.MoveToOuterDisposeScope();
    }

    /// <summary>Seeds each codebook with k-means(++) over that level's residuals of <paramref name="input"/>.</summary>
    public void InitialiseCodebooks(Tensor input)
    {
        CheckInput(input);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var residual = adapter.forward(input);
        for (int level = 0; level < Levels; level++)
        {
            var centroids = KMeans.Fit(residual, CodebookSize, _options.KMeansIterations, _random);
            codebooks[level].copy_(centroids);
            var chosen = centroids.index_select(0, KMeans.SquaredDistances(residual, centroids).argmin(1));
            residual = residual - chosen;
        }
        CodebooksInitialised = true;
    }

    private (Tensor Codes, Tensor Quantized, Tensor CodebookLoss, Tensor CommitmentLoss) Quantize(Tensor latent, bool trackUsage)
    {
        var residual = latent;
        var quantized = zeros_like(latent);
        var codebookLoss = zeros(1, device: latent.device).squeeze();
        var commitmentLoss = zeros(1, device: latent.device).squeeze();
        var codes = new Tensor[Levels];
        for (int level = 0; level < Levels; level++)
        {
            var codebook = codebooks[level];
            var index = KMeans.SquaredDistances(residual.detach(), codebook.detach()).argmin(1);
            var code = codebook.index_select(0, index);
            // Codebook loss moves codes towards the (frozen) residuals; commitment moves the encoder towards the codes.
            codebookLoss = codebookLoss + nn.functional.mse_loss(code, residual.detach());
            commitmentLoss = commitmentLoss + nn.functional.mse_loss(residual, code.detach());
            if (trackUsage) _upkeep.Observe(level, index);
            quantized = quantized + code;
            residual = residual - code.detach();
            codes[level] = index;
        }
        return (stack(codes, 1), quantized, codebookLoss, commitmentLoss);
    }

    private void CheckInput(Tensor input)
    {
        if (input.dim() != 2 || input.shape[1] != InputDim)
        {
            throw new ArgumentException(
                $"RQ-VAE input must be [batch, {InputDim}], got [{string.Join(", ", input.shape)}].", nameof(input));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _upkeep.Dispose();
        base.Dispose(disposing);
    }
}
