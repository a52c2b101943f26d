using System.Text;
using System.Text.Json;
using ReaSeq.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// The tiny LLaDA of paper §3.2.2 / §4.2.1 for Bidirectional Implicit Behavior Reasoning: a bidirectional
/// transformer encoder over a behaviour sequence. Each observed position enters as its frozen item knowledge
/// vector through a learnable linear adapter; [FILL] and [MASK] share one learnable embedding; learnable
/// positional embeddings are added. The final hidden states are projected back to the item-vector width, so a
/// prediction can be compared with real item vectors by cosine and searched in the vector store.
/// <para>
/// Batch fields: <see cref="ItemVectorsField"/> [B, L, itemVectorDim] float32 (the item at each observed or
/// labeled position; anything at other positions is ignored), <see cref="PositionKindsField"/> [B, L] int64
/// (<see cref="PositionKind"/>), and optionally <see cref="MaskField"/> [B, L] bool naming the labeled fills to
/// treat as [MASK]; without it, training and <see cref="Evaluate"/> draw the masks dynamically.
/// <see cref="Predict"/> returns the projected outputs [B, L, itemVectorDim].
/// </para>
/// </summary>
public sealed class LladaTiny : nn.Module<Tensor, Tensor, Tensor>, ITrainableModel
{
    public const string ItemVectorsField = "item_vectors";
    public const string PositionKindsField = "position_kinds";
    public const string MaskField = "mask";

    /// <summary>
    /// Optional [B, L] float32: log q of the item at each position, the chance that it turns up as one of Eq. 7's in-batch
    /// candidates (its share of the training targets). When present, the sampled softmax subtracts it from every logit
    /// (sampling-bias correction, Yi et al. 2019): in-batch negatives are drawn by popularity, so without it the model
    /// learns p(item | context) / q(item) and ranks popular items too low when it searches the whole catalogue.
    /// </summary>
    public const string TargetLogPriorField = "target_log_prior";

    // What each position feeds the encoder.
    private const long PaddingToken = 0;
    private const long ItemToken = 1;
    private const long FillToken = 2;

    private static readonly byte[] FileMagic = "LLADA\0v1"u8.ToArray();

    // Field names become state-dict keys.
    private readonly Linear adapter;
    private readonly Parameter fillEmbedding;
    private readonly Embedding positionEmbedding;
    private readonly Dropout inputDropout;
    private readonly ModuleList<LladaEncoderBlock> blocks;
    private readonly LayerNorm finalNorm;
    private readonly Linear outputProjection;

    private readonly LladaTinyOptions _options;
    private readonly Device _device;

    /// <summary>Builds the model on <paramref name="device"/>; see <see cref="Create"/> to honour options.Device.</summary>
    public LladaTiny(LladaTinyOptions options, Device device) : base("llada_tiny")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        options.Validate();
        _options = options.Clone();
        _device = device;
        int width = options.ModelDim;

        // §3.2.2 "Item Representation Adaptation": the knowledge vectors stay frozen, only the adapter learns.
        adapter = nn.Linear(options.ItemVectorDim, width, device: device);
        // §3.2.2: a dedicated, randomly initialised [FILL] embedding that [MASK] shares.
        fillEmbedding = new Parameter(randn(width, device: device) * 0.02f);
        // §4.2.1: learnable positional encoding (BERT style).
        positionEmbedding = nn.Embedding(options.MaxLength, width, device: device);
        inputDropout = nn.Dropout(options.Dropout);
        blocks = nn.ModuleList(Enumerable.Range(0, options.Layers)
            .Select(layer => new LladaEncoderBlock($"block{layer}", width, options.Heads, options.EffectiveFeedForwardDim, options.Dropout, options.AttentionDropout, device))
            .ToArray());
        finalNorm = nn.LayerNorm(width, device: device);
        outputProjection = nn.Linear(width, options.ItemVectorDim, device: device);
        using (no_grad()) nn.init.normal_(positionEmbedding.weight!, 0, 0.02);
        RegisterComponents();
    }

    /// <summary>Builds the model on the device named by <see cref="LladaTinyOptions.Device"/>.</summary>
    public static LladaTiny Create(LladaTinyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new LladaTiny(options, TorchDevice.Resolve(options.Device));
    }

    public string Name => "llada_tiny";

    public Device Device => _device;

    /// <summary>A copy of the settings the model was built with.</summary>
    public LladaTinyOptions Options => _options.Clone();

    public IEnumerable<Parameter> TrainableParameters() => parameters();

    public void SetTraining(bool training) => train(training);

    /// <summary>
    /// Loss on the masked labeled fills (Eq. 6): the mean over [MASK] positions of the configured objective.
    /// Masks come from <see cref="MaskField"/> when present, otherwise from dynamic masking.
    /// </summary>
    public Tensor CalculateLoss(Interaction batch)
    {
        var (vectors, kinds) = ReadBatch(batch);
        var masked = batch.Contains(MaskField) ? CheckedMask(batch[MaskField], kinds) : DrawMasks(kinds);
        var outputs = forward(vectors, InputTokens(kinds, masked, _options.UnmaskedLabels));
        var maskedIndex = masked.flatten().nonzero().squeeze(1);
        var predictions = outputs.reshape(-1, _options.ItemVectorDim).index_select(0, maskedIndex);
        var targets = vectors.reshape(-1, _options.ItemVectorDim).index_select(0, maskedIndex);
        var logPrior = batch.Contains(TargetLogPriorField) ? CheckedLogPrior(batch[TargetLogPriorField], kinds).flatten().index_select(0, maskedIndex) : null;
        return _options.Loss switch
        {
            LladaLoss.SampledSoftmax => SampledSoftmaxLoss(predictions, targets, _options.Temperature, logPrior),
            LladaLoss.Cosine => (1 - nn.functional.cosine_similarity(predictions, targets, dim: 1)).mean(),
            LladaLoss.Euclidean => (predictions - targets).pow(2).sum(1).clamp_min(1e-12).sqrt().mean(),
            _ => throw new InvalidOperationException($"Unknown loss {_options.Loss}."),
        };
    }

    /// <summary>
    /// Projected outputs [B, L, itemVectorDim] with the inference input of §3.2.3: observed and labeled positions
    /// show their items, unlabeled gaps show [FILL]; positions named in <see cref="MaskField"/>, if present, show [MASK].
    /// </summary>
    public Tensor Predict(Interaction batch)
    {
        var (vectors, kinds) = ReadBatch(batch);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var masked = batch.Contains(MaskField) ? CheckedMask(batch[MaskField], kinds) : null;
        return forward(vectors, InputTokens(kinds, masked, UnmaskedLabelInput.ObservedItem)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// §3.2.3 inference: the final hidden states, projected to the item-vector width, at every
    /// <see cref="PositionKind.UnlabeledFill"/> position of <paramref name="batch"/>. Labeled positions keep their
    /// observed items. Runs without dropout or gradients; the training flag is restored afterwards. A sequence's outputs
    /// are bit for bit the same whatever other sequences share the batch (its shape aside).
    /// </summary>
    public LladaFillResult Fill(Interaction batch)
    {
        var (itemVectors, kinds) = ReadBatch(batch);
        bool wasTraining = training;
        train(false);
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            using Scalar unlabeled = (long)PositionKind.UnlabeledFill;
            var masked = batch.Contains(MaskField) ? CheckedMask(batch[MaskField], kinds) : null;
            var isFill = kinds.eq(unlabeled).flatten();
            var fillIndex = isFill.nonzero().squeeze(1);
            long length = kinds.shape[1];
            var vectors = FillForward(itemVectors, InputTokens(kinds, masked, UnmaskedLabelInput.ObservedItem), isFill);
            return new LladaFillResult(
                vectors.MoveToOuterDisposeScope(),
                fillIndex.div(length, rounding_mode: RoundingMode.floor).MoveToOuterDisposeScope(),
                fillIndex.remainder(length).MoveToOuterDisposeScope());
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>
    /// IB-PPL and IB-ACC of §4.2.1 on one batch, without dropout or gradients. [MASK] positions come from
    /// <see cref="MaskField"/> or a fresh dynamic-masking draw; every sequence contributes one randomly drawn item
    /// (observed or labeled) as the negative for all other sequences' tokens; a [FILL]'s positive is the closest
    /// [MASK] ground truth of its own sequence (fills of sequences without a [MASK] are not scored).
    /// </summary>
    public LladaEvaluation Evaluate(Interaction batch)
    {
        var (vectors, kinds) = ReadBatch(batch);
        bool wasTraining = training;
        train(false);
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var masked = batch.Contains(MaskField) ? CheckedMask(batch[MaskField], kinds) : DrawMasks(kinds);
            var outputs = forward(vectors, InputTokens(kinds, masked, _options.UnmaskedLabels));
            long length = kinds.shape[1];
            int dim = _options.ItemVectorDim;
            var flatOutputs = outputs.reshape(-1, dim);
            var flatVectors = vectors.reshape(-1, dim);

            var maskIndex = masked.flatten().nonzero().squeeze(1);
            var maskPredictions = flatOutputs.index_select(0, maskIndex);
            var maskTargets = flatVectors.index_select(0, maskIndex);
            var maskSequences = maskIndex.div(length, rounding_mode: RoundingMode.floor);

            // §4.2.1: "one item token is randomly selected from every other sample in the batch as a negative".
            var hasItem = (kinds == (long)PositionKind.Observed).logical_or(kinds == (long)PositionKind.LabeledFill);
            var drawnPosition = rand(kinds.shape, device: _device).MaskedFill(hasItem.logical_not(), -1).argmax(1);
            var sequenceNegatives = vectors.gather(1, drawnPosition.view(-1, 1, 1).expand(-1, 1, dim)).squeeze(1);

            var maskMetrics = InBatchMetrics.Score(maskPredictions, maskTargets, maskSequences, sequenceNegatives, _options.Temperature);

            var fillIndex = (kinds == (long)PositionKind.UnlabeledFill).flatten().nonzero().squeeze(1);
            var fillPredictions = flatOutputs.index_select(0, fillIndex);
            var fillSequences = fillIndex.div(length, rounding_mode: RoundingMode.floor);
            var (fillPositives, hasPositive) = InBatchMetrics.ClosestTruths(fillPredictions, fillSequences, maskTargets, maskSequences);
            var scored = hasPositive.nonzero().squeeze(1);
            var fillMetrics = InBatchMetrics.Score(
                fillPredictions.index_select(0, scored), fillPositives.index_select(0, scored),
                fillSequences.index_select(0, scored), sequenceNegatives, _options.Temperature);
            return new LladaEvaluation(maskMetrics, fillMetrics);
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>
    /// The encoder itself. <paramref name="inputTokens"/> [B, L] int64 says per position whether it shows its item
    /// vector (1), the shared [FILL]/[MASK] embedding (2) or is padding (0). Returns [B, L, itemVectorDim].
    /// </summary>
    public override Tensor forward(Tensor itemVectors, Tensor inputTokens)
    {
        long batch = itemVectors.shape[0], length = itemVectors.shape[1];
        if (length > _options.MaxLength)
            throw new ArgumentException($"Sequences of length {length} exceed {nameof(LladaTinyOptions.MaxLength)} {_options.MaxLength}.");
        // Explicit scalars, as in InputTokens: an implicit conversion's Scalar is left to the finalizer.
        using Scalar padding = PaddingToken, item = ItemToken, fill = FillToken;
        var showsItem = inputTokens.eq(item).unsqueeze(2);
        // Vectors behind [FILL]/[MASK] are zeroed before the adapter, so a target can never leak into the input.
        var items = adapter.forward(itemVectors * showsItem.to(itemVectors.dtype));
        var tokens = where(inputTokens.eq(fill).unsqueeze(2), fillEmbedding.view(1, 1, -1).expand_as(items), items);
        var positions = positionEmbedding.forward(arange(length, dtype: ScalarType.Int64, device: itemVectors.device));
        var hidden = inputDropout.forward(tokens + positions.unsqueeze(0));

        // No causal mask (bidirectional, §3.2.2); padding keys are hidden from every query.
        var attends = inputTokens.ne(padding).view(batch, 1, 1, length);
        foreach (var block in blocks) hidden = block.forward(hidden, attends);
        return outputProjection.forward(finalNorm.forward(hidden));
    }

    /// <summary>
    /// <see cref="forward"/> in evaluation mode under no_grad, returning only the projected outputs at the positions
    /// where <paramref name="outputMask"/> [batch × length] bool is set, in flat order, [rows, itemVectorDim]: the §3.2.3
    /// fills. The same numbers up to float rounding, with less work: padding positions are dropped up front (they
    /// are hidden from every query, so nothing real depends on them) and the real positions travel packed
    /// [real, modelDim] through the blocks; the adapter runs only over positions that show their item (instead of
    /// zeroing the vectors behind [FILL]/[MASK] first); the blocks update their activations in place; and the last
    /// block, final norm and output projection run only for the output positions (all real positions still serve
    /// as keys and values: bidirectional attention, §3.2.2).
    /// <para>
    /// A position's output must not depend on what else shares the call (the dllm role re-publishes identical records
    /// on a replay, issue 8 B8), but the BLAS kernels round differently for a handful of rows than for many: the fill of
    /// a batch's only gap (1 row) differed in its last bits from the same fill beside others (the likely cause of two
    /// different outputs for one input after a replay in CI). So each row-wise matmul runs over a row count padded to
    /// a multiple of <see cref="RowTile"/> with copies of its first row, whose outputs are dropped.
    /// </para>
    /// </summary>
    private Tensor FillForward(Tensor itemVectors, Tensor inputTokens, Tensor outputMask)
    {
        long batch = itemVectors.shape[0], length = itemVectors.shape[1];
        if (length > _options.MaxLength)
            throw new ArgumentException($"Sequences of length {length} exceed {nameof(LladaTinyOptions.MaxLength)} {_options.MaxLength}.");
        using Scalar padding = PaddingToken, item = ItemToken;
        var flatTokens = inputTokens.flatten();
        var unpaddedRealRows = flatTokens.ne(padding).nonzero().squeeze(1);
        long realCount = unpaddedRealRows.shape[0];
        var outputRows = outputMask.index_select(0, unpaddedRealRows).nonzero().squeeze(1);
        long outputs = outputRows.shape[0];
        // Copies of the first real position pad the packed rows; nothing real ever reads what they hold. Without
        // padding positions the row count is the call's own shape and needs no padding.
        var realRows = realCount == batch * length ? unpaddedRealRows : PadToRowTile(unpaddedRealRows);
        var realTokens = flatTokens.index_select(0, realRows);
        var itemRows = realTokens.eq(item).nonzero().squeeze(1);
        // As in forward: every real position that does not show its item is [FILL]/[MASK] and shows the shared
        // embedding; only the item positions' vectors ever reach the adapter, so no target leaks into the input.
        var hidden = fillEmbedding.view(1, -1).repeat(realRows.shape[0], 1);
        var paddedItemRows = PadToRowTile(itemRows);
        var shown = itemVectors.reshape(-1, _options.ItemVectorDim).index_select(0, realRows.index_select(0, paddedItemRows));
        hidden.index_copy_(0, itemRows, adapter.forward(shown).narrow(0, 0, itemRows.shape[0]));
        using Scalar lengthScalar = length;
        hidden.add_(positionEmbedding.weight!.index_select(0, realRows.remainder(lengthScalar)));

        var attends = flatTokens.ne(padding).view(batch, 1, 1, length);
        var lastRows = PadToRowTile(outputRows);
        for (int layer = 0; layer < blocks.Count; layer++)
            hidden = blocks[layer].ForwardInference(hidden, realRows, realCount, batch, length, attends, layer == blocks.Count - 1 ? lastRows : null);
        return outputProjection.forward(finalNorm.forward(hidden)).narrow(0, 0, outputs);
    }

    /// <summary>Row counts of <see cref="FillForward"/>'s matmuls are multiples of this (see there).</summary>
    internal const int RowTile = 16;

    /// <summary><paramref name="rows"/> followed by copies of its first entry up to a multiple of <see cref="RowTile"/>.</summary>
    private static Tensor PadToRowTile(Tensor rows)
    {
        long count = rows.shape[0];
        long padded = (count + RowTile - 1) / RowTile * RowTile;
        return padded == count ? rows : cat([rows, rows.narrow(0, 0, 1).expand(padded - count)]);
    }

    /// <summary>
    /// Writes a magic tag, the options as JSON and the TorchSharp state dict. <see cref="Load"/> rebuilds the
    /// same model, which then gives identical outputs.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(_options);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(FileMagic);
        writer.Write(json.Length);
        writer.Write(json);
        save(writer);
    }

    /// <summary>Reads what <see cref="Save"/> wrote; <paramref name="device"/> overrides the saved device choice.</summary>
    public static LladaTiny Load(Stream stream, string? device = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (!reader.ReadBytes(FileMagic.Length).AsSpan().SequenceEqual(FileMagic))
            throw new InvalidDataException("The stream does not hold a LLaDA model (bad magic tag).");
        int headerLength = reader.ReadInt32();
        if (headerLength <= 0 || headerLength > 1 << 20)
            throw new InvalidDataException($"The LLaDA model header length {headerLength} is corrupt.");
        var options = JsonSerializer.Deserialize<LladaTinyOptions>(reader.ReadBytes(headerLength))
            ?? throw new InvalidDataException("The LLaDA model header is empty.");
        if (device is not null) options.Device = device;
        var model = Create(options);
        try
        {
            model.load(reader);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Eq. 7: logits are cosine(prediction, target of every masked position in the batch) / temperature and each
    /// prediction's own target is the positive. Other masks whose target is the very same item are hidden, so an
    /// item that occurs twice in a batch is not pushed away from itself (accidental-hit removal). With
    /// <paramref name="logPrior"/> (per target), each column's log q is subtracted (see <see cref="TargetLogPriorField"/>).
    /// </summary>
    private static Tensor SampledSoftmaxLoss(Tensor predictions, Tensor targets, double temperature, Tensor? logPrior)
    {
        var predicted = nn.functional.normalize(predictions, p: 2, dim: 1);
        var truth = nn.functional.normalize(targets, p: 2, dim: 1).detach();
        var logits = predicted.matmul(truth.t()) / temperature;
        if (logPrior is not null) logits = logits - logPrior.to(logits.dtype).view(1, -1);
        long count = targets.shape[0];
        var own = eye(count, dtype: ScalarType.Bool, device: targets.device);
        var sameItem = truth.matmul(truth.t()).gt(1 - 1e-6).logical_and(own.logical_not());
        var labels = arange(count, dtype: ScalarType.Int64, device: targets.device);
        return nn.functional.cross_entropy(logits.MaskedFill(sameItem, double.NegativeInfinity), labels);
    }

    /// <summary>
    /// Dynamic masking (§3.2.2): t ~ U(0, 1) once per step, then each maskable position (the labeled fills, and the
    /// observed items too with <see cref="LladaTinyOptions.MaskObservedItems"/>) becomes [MASK] with probability t.
    /// At least one position is masked so every step has a loss.
    /// </summary>
    private Tensor DrawMasks(Tensor kinds)
    {
        var maskable = Maskable(kinds);
        var maskableIndex = maskable.flatten().nonzero().squeeze(1);
        long maskableCount = maskableIndex.shape[0];
        if (maskableCount == 0)
            throw new ArgumentException($"The batch has no maskable position ({MaskableDescription}), so there is nothing to mask.");
        double ratio = rand(1).item<float>();
        var masked = maskable.logical_and(rand(kinds.shape, device: _device) < ratio);
        if (!masked.any().item<bool>())
        {
            long chosen = maskableIndex[randint(maskableCount, 1).item<long>()].item<long>();
            masked = masked.flatten().index_fill(0, tensor(new[] { chosen }, device: _device), true).view_as(masked);
        }
        return masked;
    }

    private Tensor CheckedMask(Tensor mask, Tensor kinds)
    {
        if (!mask.shape.SequenceEqual(kinds.shape))
            throw new ArgumentException($"Field '{MaskField}' must be [{string.Join(", ", kinds.shape)}], got [{string.Join(", ", mask.shape)}].");
        var masked = mask.to(ScalarType.Bool);
        if (masked.logical_and(Maskable(kinds).logical_not()).any().item<bool>())
            throw new ArgumentException($"Field '{MaskField}' may only mark {MaskableDescription} positions.");
        return masked;
    }

    private static Tensor CheckedLogPrior(Tensor logPrior, Tensor kinds)
    {
        if (!logPrior.shape.SequenceEqual(kinds.shape) || !logPrior.is_floating_point())
            throw new ArgumentException($"Field '{TargetLogPriorField}' must be floating point [{string.Join(", ", kinds.shape)}], got {logPrior.dtype} [{string.Join(", ", logPrior.shape)}].");
        return logPrior;
    }

    /// <summary>Positions dynamic masking may draw: labeled fills, plus observed items when the options say so.</summary>
    private Tensor Maskable(Tensor kinds)
    {
        var labeled = kinds == (long)PositionKind.LabeledFill;
        return _options.MaskObservedItems ? labeled.logical_or(kinds == (long)PositionKind.Observed) : labeled;
    }

    private string MaskableDescription => _options.MaskObservedItems
        ? $"{nameof(PositionKind.LabeledFill)} or {nameof(PositionKind.Observed)}"
        : nameof(PositionKind.LabeledFill);

    private static Tensor InputTokens(Tensor kinds, Tensor? masked, UnmaskedLabelInput unmaskedLabels)
    {
        // Explicit scalars, alive until the end of the method: an implicit conversion's Scalar is unreachable as soon as its
        // handle is passed, so a concurrent GC could finalize it while libtorch still reads it ("Unknown scalar type").
        using Scalar padding = PaddingToken, item = ItemToken, fill = FillToken;
        using Scalar labeledShows = unmaskedLabels == UnmaskedLabelInput.ObservedItem ? ItemToken : FillToken;
        using Scalar observedKind = (long)PositionKind.Observed, unlabeledKind = (long)PositionKind.UnlabeledFill, labeledKind = (long)PositionKind.LabeledFill;
        var tokens = full_like(kinds, padding);
        tokens = tokens.masked_fill(kinds.eq(observedKind), item);
        tokens = tokens.masked_fill(kinds.eq(unlabeledKind), fill);
        tokens = tokens.masked_fill(kinds.eq(labeledKind), labeledShows);
        return masked is null ? tokens : tokens.masked_fill(masked, fill); // [MASK] shares the [FILL] embedding (§3.2.2).
    }

    private (Tensor Vectors, Tensor Kinds) ReadBatch(Interaction batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var vectors = batch[ItemVectorsField];
        var kinds = batch[PositionKindsField];
        if (vectors.dim() != 3 || vectors.shape[2] != _options.ItemVectorDim)
        {
            throw new ArgumentException(
                $"Field '{ItemVectorsField}' must be [batch, length, {_options.ItemVectorDim}], got [{string.Join(", ", vectors.shape)}].");
        }

        if (kinds.dim() != 2 || kinds.shape[0] != vectors.shape[0] || kinds.shape[1] != vectors.shape[1])
        {
            throw new ArgumentException(
                $"Field '{PositionKindsField}' must be [{vectors.shape[0]}, {vectors.shape[1]}], got [{string.Join(", ", kinds.shape)}].");
        }

        if (kinds.dtype != ScalarType.Int64)
            throw new ArgumentException($"Field '{PositionKindsField}' must be int64, got {kinds.dtype}.");
        return (vectors, kinds);
    }
}
