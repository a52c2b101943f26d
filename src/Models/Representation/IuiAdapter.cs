using ReaSeq.Models.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.Representation;

/// <summary>
/// The IUI adapter: on top of frozen base item vectors, y = normalize(x̂ + f(x̂)) with x̂ the L2-normalised base vector
/// and f a residual MLP (Linear–GELU–Linear, or one Linear when <see cref="IuiAdapterOptions.HiddenDim"/> is 0) whose
/// last layer starts at zero, so an untrained adapter returns the base directions unchanged. Trained with in-batch
/// InfoNCE (both directions) on item pairs that co-occur in a user's sequence; a batch's other pairs are the
/// negatives, except those of the same item (not a negative of itself).
/// Batch fields: <see cref="AnchorField"/> and <see cref="PositiveField"/> [batch, dim] float32 base vectors,
/// optional <see cref="AnchorItemField"/> and <see cref="PositiveItemField"/> [batch] int64 item ids for that mask.
/// <see cref="Predict"/> returns the adapted anchors [batch, dim].
/// </summary>
public sealed class IuiAdapter : nn.Module<Tensor, Tensor>, ITrainableModel
{
    public const string AnchorField = "anchor";
    public const string PositiveField = "positive";
    public const string AnchorItemField = "anchor_item";
    public const string PositiveItemField = "positive_item";

    // Field names become state-dict keys.
    private readonly nn.Module<Tensor, Tensor> residual;

    private readonly IuiAdapterOptions _options;
    private readonly Device _device;

    public IuiAdapter(int dim, IuiAdapterOptions options, Device device) : base("iui")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (dim <= 0) throw new ArgumentOutOfRangeException(nameof(dim), dim, "The vector width must be positive.");
        Dimension = dim;
        _options = options.Clone();
        _device = device;
        Linear last;
        if (options.HiddenDim == 0)
        {
            last = nn.Linear(dim, dim, device: device);
            residual = last;
        }
        else
        {
            last = nn.Linear(options.HiddenDim, dim, device: device);
            residual = nn.Sequential(
                ("hidden", nn.Linear(dim, options.HiddenDim, device: device)),
                ("activation", nn.GELU()),
                ("output", last));
        }
        using (no_grad())
        {
            last.weight!.zero_();
            last.bias!.zero_();
        }
        RegisterComponents();
    }

    public string Name => "iui";

    public Device Device => _device;

    public int Dimension { get; }

    public IuiAdapterOptions Options => _options.Clone();

    public IEnumerable<Parameter> TrainableParameters() => parameters();

    public void SetTraining(bool training) => train(training);

    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 2 || input.shape[1] != Dimension)
            throw new ArgumentException($"Expected [batch, {Dimension}] vectors, got [{string.Join(", ", input.shape)}].", nameof(input));
        var unit = nn.functional.normalize(input, p: 2, dim: 1);
        return nn.functional.normalize(unit + residual.forward(unit), p: 2, dim: 1);
    }

    public Tensor CalculateLoss(Interaction batch)
    {
        var anchors = forward(batch[AnchorField]);
        var positives = forward(batch[PositiveField]);
        var logits = anchors.mm(positives.t()) / _options.Temperature;
        var labels = arange(logits.shape[0], dtype: ScalarType.Int64, device: logits.device);
        var rows = logits;
        var columns = logits.t();
        if (batch.Contains(AnchorItemField) && batch.Contains(PositiveItemField))
        {
            // A column holding the row's own positive item again is no negative; nor, the other way, the anchor item.
            var diagonal = eye(logits.shape[0], dtype: ScalarType.Bool, device: logits.device);
            var positiveItems = batch[PositiveItemField];
            var anchorItems = batch[AnchorItemField];
            var sameRow = positiveItems.unsqueeze(1).eq(positiveItems.unsqueeze(0)).logical_and(diagonal.logical_not());
            var sameColumn = anchorItems.unsqueeze(1).eq(anchorItems.unsqueeze(0)).logical_and(diagonal.logical_not());
            rows = logits.MaskedFill(sameRow, double.NegativeInfinity);
            columns = logits.t().MaskedFill(sameColumn, double.NegativeInfinity);
        }
        return (nn.functional.cross_entropy(rows, labels) + nn.functional.cross_entropy(columns, labels)) / 2;
    }

    public Tensor Predict(Interaction batch)
    {
        using var _ = no_grad();
        return forward(batch[AnchorField]);
    }
}
