using System.Numerics;
using System.Runtime.InteropServices;
using ReaSeq.Models.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.Ctr;

/// <summary>
/// The CTR ranking model of paper §2.2 with each pathway switchable (<see cref="CtrModelOptions"/>):
/// <list type="bullet">
/// <item>Item representation: a linear projection of the frozen knowledge vector (§2.1), plus, with SID on, the sum of
/// per-level semantic-id embeddings (§2.2.2, Appendix C), plus a learned [FILL] embedding for GBR fills (§4.2.4).</item>
/// <item>Base: DIN target attention over the sequence (§4.2.1's simplified base).</item>
/// <item>Retrieval (§2.2.1): the GSU takes the top-K history items by cosine of knowledge vectors (no gradient, as
/// the paper's retrieval service); the ESU applies multi-head target attention over them. Key and value projections
/// run once on the batch's de-duplicated retrieved items and are gathered per row, as in the paper's deployment.</item>
/// <item>Compression (§2.2.2): learnable interest anchors cross-attend over the full sequence (dense gradients),
/// then the target attends over the compressed anchors.</item>
/// <item>Head (Eq. 4): an MLP over [pathway outputs; target; side features; user features], trained with BCE (Eq. 5).</item>
/// </list>
/// <para>
/// Batch fields (built by <see cref="CtrBatchBuilder"/>): the batch's unique sequence items are a table packed
/// row-major into the batch dimension, so that every field keeps the batch as its first dimension:
/// <see cref="ItemTableField"/> [B, R, itemVectorDim] float32 (flattened row 0 is padding),
/// <see cref="ItemTableSidField"/> [B, R, SidLevels] int64 (code + 1, 0 unknown),
/// <see cref="ItemTableFillField"/> [B, R] float32 (1 for a GBR fill),
/// <see cref="HistoryField"/> [B, L] int64 flattened table rows (0 = padding), optionally
/// <see cref="HistoryGroupField"/> [B, 2] int64 (the row's distinct sequence in order of first appearance, and its rank
/// among that sequence's rows: rows of one user share a history, so the GSU gathers it once per user),
/// <see cref="TargetField"/> [B, itemVectorDim], <see cref="TargetKnownField"/> [B] float32,
/// <see cref="TargetSidField"/> [B, SidLevels] int64, <see cref="TargetSideField"/> [B, 3] int64 (category,
/// price and popularity buckets), <see cref="UserSideField"/> [B, <see cref="UserFeatureCount"/>] float32 and, to
/// train, <see cref="LabelField"/> [B] float32. <see cref="Predict"/> returns click probabilities [B].
/// </para>
/// </summary>
public sealed class CtrModel : nn.Module<Interaction, Tensor>, ITrainableModel
{
    public const string ItemTableField = "item_table";
    public const string ItemTableSidField = "item_table_sid";
    public const string ItemTableFillField = "item_table_fill";
    public const string HistoryField = "history";
    public const string HistoryGroupField = "history_group";
    public const string TargetField = "target";
    public const string TargetKnownField = "target_known";
    public const string TargetSidField = "target_sid";
    public const string TargetSideField = "target_side";
    public const string UserSideField = "user_side";
    public const string LabelField = "label";

    /// <summary>log1p(clicks so far), log1p(sequence length fed), share of GBR fills in it.</summary>
    public const int UserFeatureCount = 3;

    // Field names become state-dict keys.
    private readonly Linear itemProjection;
    private readonly Parameter fillEmbedding;
    private readonly Parameter unknownTarget;
    private readonly Embedding sidEmbedding;
    private readonly Embedding categoryEmbedding;
    private readonly Embedding priceEmbedding;
    private readonly Embedding popularityEmbedding;
    private readonly Linear userProjection;
    private readonly Linear dinHidden;
    private readonly Linear dinScore;
    private readonly Linear esuQuery;
    private readonly Linear esuKey;
    private readonly Linear esuValue;
    private readonly Linear esuOutput;
    private readonly Parameter anchors;
    private readonly Linear anchorQuery;
    private readonly Linear compressionKey;
    private readonly Linear compressionValue;
    private readonly Linear extractionQuery;
    private readonly Sequential head;

    private readonly CtrModelOptions _options;
    private readonly Device _device;

    public CtrModel(CtrModelOptions options, Device device) : base("ctr")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(device);
        options.Validate();
        _options = options.Clone();
        _device = device;
        int h = options.HiddenDim;

        itemProjection = nn.Linear(options.ItemVectorDim, h, device: device);
        fillEmbedding = new Parameter(randn(h, device: device) * 0.02f);
        unknownTarget = new Parameter(randn(h, device: device) * 0.02f);
        // One table for all levels: level l's code c lives at row l·(size + 1) + c + 1; row l·(size + 1) is "unknown".
        sidEmbedding = nn.Embedding(options.SidLevels * (options.SidCodebookSize + 1), h, device: device);
        categoryEmbedding = nn.Embedding(CtrBuckets.CategoryBuckets, h, device: device);
        priceEmbedding = nn.Embedding(CtrBuckets.PriceBuckets, h, device: device);
        popularityEmbedding = nn.Embedding(CtrBuckets.PopularityBuckets, h, device: device);
        userProjection = nn.Linear(UserFeatureCount, h, device: device);
        dinHidden = nn.Linear(4 * h, options.AttentionHiddenDim, device: device);
        dinScore = nn.Linear(options.AttentionHiddenDim, 1, device: device);
        esuQuery = nn.Linear(h, h, device: device);
        esuKey = nn.Linear(h, h, device: device);
        esuValue = nn.Linear(h, h, device: device);
        esuOutput = nn.Linear(h, h, device: device);
        anchors = new Parameter(randn(options.InterestAnchors, h, device: device) * 0.1f);
        anchorQuery = nn.Linear(h, h, device: device);
        compressionKey = nn.Linear(h, h, device: device);
        compressionValue = nn.Linear(h, h, device: device);
        extractionQuery = nn.Linear(h, h, device: device);

        int pathways = (options.UseBase ? 1 : 0) + (options.UseRetrieval ? 1 : 0) + (options.UseCompression ? 1 : 0);
        // [pathways; target; category; price; popularity; user]
        int width = (pathways + 5) * h;
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < options.HeadHiddenDims.Length; i++)
        {
            layers.Add(($"linear{i}", nn.Linear(width, options.HeadHiddenDims[i], device: device)));
            layers.Add(($"relu{i}", nn.ReLU()));
            width = options.HeadHiddenDims[i];
        }
        layers.Add(("output", nn.Linear(width, 1, device: device)));
        head = nn.Sequential(layers);
        using (no_grad())
        {
            foreach (var embedding in new[] { sidEmbedding, categoryEmbedding, priceEmbedding, popularityEmbedding })
                nn.init.normal_(embedding.weight!, 0, 0.05);
        }
        RegisterComponents();
    }

    /// <summary>Builds the model on the device named by <see cref="CtrModelOptions.Device"/>.</summary>
    public static CtrModel Create(CtrModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new CtrModel(options, TorchDevice.Resolve(options.Device));
    }

    public string Name => "ctr";

    public Device Device => _device;

    public CtrModelOptions Options => _options.Clone();

    public IEnumerable<Parameter> TrainableParameters() => parameters();

    public void SetTraining(bool training) => train(training);

    /// <summary>Click logits [B].</summary>
    public override Tensor forward(Interaction batch)
    {
        var o = _options;
        int h = o.HiddenDim;
        long b = batch.Count;
        var table = batch[ItemTableField].reshape(-1, o.ItemVectorDim);
        var rows = ItemRepresentation(table, batch[ItemTableSidField].reshape(-1, o.SidLevels))
            + batch[ItemTableFillField].reshape(-1, 1) * fillEmbedding;
        var history = batch[HistoryField];
        long length = history.shape[1];
        var mask = history.gt(0);
        var maskFloat = mask.to_type(ScalarType.Float32);

        var targetVector = batch[TargetField];
        var known = batch[TargetKnownField].unsqueeze(1);
        var target = ItemRepresentation(targetVector, batch[TargetSidField]) * known + unknownTarget * (1 - known);

        var parts = new List<Tensor>(8);
        var group = batch.Contains(HistoryGroupField) ? batch[HistoryGroupField] : null;
        if (o.UseBase)
        {
            // DIN reads the newest DinHistory positions (right-aligned: the newest is the last column).
            long window = Math.Min(o.DinHistory, length), start = length - window;
            var dinHistory = window == length ? history : history.narrow(1, start, window);
            var dinMask = window == length ? mask : mask.narrow(1, start, window);
            var dinMaskFloat = window == length ? maskFloat : maskFloat.narrow(1, start, window);
            var cells = group is null ? null : UserCells(group, b);
            if (cells is not null)
            {
                parts.Add(DinGrouped(rows, dinHistory, cells.Value, target, dinMask, dinMaskFloat));
            }
            else
            {
                var sequence = rows.index_select(0, dinHistory.flatten()).view(b, window, h);
                parts.Add(Din(rows, dinHistory, sequence, target, dinMask, dinMaskFloat));
            }
        }
        if (o.UseCompression) parts.Add(Compression(rows, history, group, target, mask, maskFloat));
        if (o.UseRetrieval) parts.Add(Retrieval(table, rows, history, group, targetVector, target, mask, b));

        var side = batch[TargetSideField];
        parts.Add(target);
        parts.Add(categoryEmbedding.forward(side.select(1, 0)));
        parts.Add(priceEmbedding.forward(side.select(1, 1)));
        parts.Add(popularityEmbedding.forward(side.select(1, 2)));
        parts.Add(userProjection.forward(batch[UserSideField]));
        return head.forward(cat(parts, 1)).squeeze(1);
    }

    public Tensor CalculateLoss(Interaction batch) =>
        nn.functional.binary_cross_entropy_with_logits(forward(batch), batch[LabelField]);

    public Tensor Predict(Interaction batch)
    {
        using var _ = no_grad();
        return forward(batch).sigmoid();
    }

    /// <summary>
    /// The user step of the split scoring path: everything of <see cref="forward"/> that does not depend on the
    /// candidate, for one user (input from <see cref="CtrBatchBuilder.BuildUser"/>), computed once and kept in the
    /// returned state (paper §2.2.1 "System Deployment": user-side work once per request, not once per candidate; the
    /// compression pathway's anchors, §2.2.2 stage 1, are target-independent). Inference only (no gradient).
    /// <see cref="ForwardCandidates(CtrUserState, Interaction)"/> then scores any number of candidates against it; together they compute the
    /// same logits as <see cref="forward"/> on a batch of that user with each candidate.
    /// </summary>
    public CtrUserState EncodeUser(Interaction user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var o = _options;
        int h = o.HiddenDim;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var table = user[ItemTableField].reshape(-1, o.ItemVectorDim);
        var rows = ItemRepresentation(table, user[ItemTableSidField].reshape(-1, o.SidLevels)) + user[ItemTableFillField].reshape(-1, 1) * fillEmbedding;
        var history = user[HistoryField].reshape(-1);
        long length = history.shape[0];
        var mask = history.gt(0);
        Tensor? unitHistory = null, esuKeys = null, esuValues = null, compressed = null;
        CtrDinState? din = null;
        // DIN scores a position from its item alone: the candidate step scores each distinct item of its window once and
        // spreads the scores to the positions. Its rearranged first-layer weights are derived here, once per user step,
        // not on every request (they are a function of the weights this state is valid for).
        if (o.UseBase)
        {
            long window = Math.Min(o.DinHistory, length), start = length - window;
            var windowRows = history.narrow(0, start, window);
            var (distinct, positions, _) = torch.unique(windowRows, sorted: true, return_inverse: true);
            var windowMask = windowRows.gt(0);
            var (query, key, difference, product) = DinWeights();
            din = new CtrDinState((query + difference).t(), (key - difference).unsqueeze(1), product.unsqueeze(1), rows.index_select(0, distinct),
                positions!, rows.index_select(0, windowRows), windowMask, windowMask.to_type(ScalarType.Float32), windowRows.eq(0).any().item<bool>());
        }
        if (o.UseCompression)
        {
            var keys = compressionKey.forward(rows).index_select(0, history);
            var values = compressionValue.forward(rows).index_select(0, history);
            var scores = anchorQuery.forward(anchors).matmul(keys.t()) / Math.Sqrt(h); // [M, L]
            var expandedMask = mask.unsqueeze(0).expand(o.InterestAnchors, length);
            var weights = MaskedSoftmax(scores, expandedMask, expandedMask.to_type(ScalarType.Float32));
            compressed = weights.matmul(values) + anchors; // [M, h]
        }
        if (o.UseRetrieval)
        {
            // Cosine needs unit vectors: normalise each distinct item once. ESU keys and values of each distinct item
            // once (§2.2.1: K/V merged and de-duplicated), laid out per head for the candidate step's two batched
            // products: keys [heads, h/heads, R], values [heads, R, h/heads].
            unitHistory = nn.functional.normalize(table.to_type(ScalarType.Float64), p: 2, dim: 1); // [R, d], per distinct item
            long headDim = h / o.Heads;
            esuKeys = esuKey.forward(rows).view(-1, o.Heads, headDim).permute(1, 2, 0).contiguous();
            esuValues = esuValue.forward(rows).view(-1, o.Heads, headDim).transpose(0, 1).contiguous();
        }
        var projectedUser = userProjection.forward(user[UserSideField]);
        return new CtrUserState(this, length, history.clone(), din, unitHistory, esuKeys, esuValues, compressed, projectedUser);
    }

    /// <summary>
    /// The candidate step of the split scoring path: click logits [C] of the candidates (input from
    /// <see cref="CtrBatchBuilder.BuildCandidates"/>) against a user state of this model, all candidates in one batch:
    /// the GSU as one [C × L] matmul of unit vectors and a top-K, the ESU over the user's distinct keys and values, the
    /// target-aware extraction over the cached anchors, DIN over the user's distinct items (in blocks of candidates), then the head.
    /// </summary>
    public Tensor ForwardCandidates(CtrUserState user, Interaction candidates) => ForwardCandidates(user, candidates, 0);

    /// <summary>
    /// <see cref="ForwardCandidates(CtrUserState, Interaction)"/> with DIN's [a·n, R] hidden layer computed
    /// <paramref name="dinBlock"/> candidates at a time (0: as many as keep the block near 1 MB). The scores do not
    /// depend on the block size; blocks keep the largest intermediate in cache and reused by the allocator, where one
    /// [a·C, R] tensor (5 MB at 200 candidates) is fresh memory on every request.
    /// </summary>
    public Tensor ForwardCandidates(CtrUserState user, Interaction candidates, int dinBlock)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentOutOfRangeException.ThrowIfNegative(dinBlock);
        ArgumentNullException.ThrowIfNull(candidates);
        if (!ReferenceEquals(user.Model, this))
            throw new ArgumentException("The user state was encoded by another model; encode the user with this model first.", nameof(user));
        var o = _options;
        int h = o.HiddenDim;
        using var _ = no_grad();
        // The per-request op count matters at these shapes (a few µs of dispatch per libtorch op, the step runs on every
        // request): user-side work is in the state (§2.2.1), numbers are explicit Scalars (an implicit conversion's
        // Scalar is freed by the finalizer, which also costs), and masks are only applied where the user has padding
        // (with none, the masked softmax is the plain softmax, bit for bit).
        using Scalar one = 1.0, extractionScale = Math.Sqrt(h);
        var targetVector = candidates[TargetField];
        long c = targetVector.shape[0];
        var known = candidates[TargetKnownField].unsqueeze(1);
        var target = ItemRepresentation(targetVector, candidates[TargetSidField]).mul_(known).add_(unknownTarget * known.neg().add_(one));

        var parts = new List<Tensor>(8);
        if (o.UseBase) parts.Add(DinCandidates(user, target, dinBlock));
        if (o.UseCompression)
        {
            var extraction = extractionQuery.forward(target).matmul(user.Compressed!.t()).div_(extractionScale); // [C, M]
            parts.Add(extraction.softmax(1).matmul(user.Compressed!));
        }
        if (o.UseRetrieval) parts.Add(RetrievalCandidates(user, targetVector, target, c));

        var side = candidates[TargetSideField];
        parts.Add(target);
        parts.Add(categoryEmbedding.forward(side.select(1, 0)));
        parts.Add(priceEmbedding.forward(side.select(1, 1)));
        parts.Add(popularityEmbedding.forward(side.select(1, 2)));
        parts.Add(user.User.expand(c, h));
        return head.forward(cat(parts, 1)).squeeze(1);
    }

    /// <summary>
    /// DIN without materialising [C, L, 4h]: W·[q, k, q − k, q ⊙ k] + b = ((W_k − W_d) + q ⊙ W_p)·k + ((W_q + W_d)·q + b), so
    /// for each (hidden unit j, candidate c) one row (W_k − W_d)[j] + q_c ⊙ W_p[j] ([a·C, h]) times the user's distinct
    /// item rows ([h, R]) is the whole first layer, its query term the matmul's added column: one addmm, GELU in place,
    /// then the scoring layer as one [1, a] × [a, C·R] product. A position's score is its item's (DIN reads the item
    /// alone), gathered from the R distinct rows to the L positions. Computed in blocks of candidates (see
    /// <see cref="ForwardCandidates(CtrUserState, Interaction, int)"/>).
    /// </summary>
    private Tensor DinCandidates(CtrUserState user, Tensor target, int block)
    {
        var weights = user.Din!;
        long c = target.shape[0], a = weights.KeyTerm.shape[0], h = weights.KeyTerm.shape[2], window = weights.Window;
        var rows = weights.DistinctRows;
        long r = rows.shape[0];
        if (block <= 0) block = (int)Math.Clamp((1L << 18) / (a * r), 1, c);
        using Scalar one = 1.0;
        var queryTerm = addmm(dinHidden.bias!, target, weights.QueryT, 1, 1).t(); // [a, C]
        var rowsT = rows.t();
        var scoreWeight = dinScore.weight!; // [1, a]
        var blocks = new List<Tensor>((int)((c + block - 1) / block));
        for (long start = 0; start < c; start += block)
        {
            long n = Math.Min(block, c - start);
            using var inner = NewDisposeScope();
            var unitRows = addcmul(weights.KeyTerm, weights.ProductWeight, target.narrow(0, start, n).unsqueeze(0), one).view(a * n, h); // [a·n, h]
            var hidden = addmm(queryTerm.narrow(1, start, n).reshape(a * n, 1), unitRows, rowsT, 1, 1); // [a·n, R]
            hidden = nn.functional.gelu(hidden, inplace: true);
            blocks.Add(scoreWeight.mm(hidden.view(a, n * r)).view(n, r).MoveToOuterDisposeScope()); // [n, R]
        }
        var scores = (blocks.Count == 1 ? blocks[0] : cat(blocks, 0)).add_(dinScore.bias!).index_select(1, weights.Positions); // [C, W]
        var attention = weights.HasPadding
            ? MaskedSoftmax(scores, weights.Mask.unsqueeze(0).expand(c, window), weights.MaskFloat.unsqueeze(0).expand(c, window))
            : scores.softmax(-1);
        return attention.matmul(weights.Sequence);
    }

    /// <summary>
    /// GSU (Eq. 1): each candidate's top-K positions by the float64 cosine of unit vectors (each distinct history item
    /// once), selected in managed code (<see cref="GsuSelect"/>: the same keys as <see cref="GsuTopK"/>, without a dozen
    /// elementwise ops and libtorch's topk over [C, L]).
    /// ESU (Eqs. 2–3) over the user's merged, de-duplicated keys and values (§2.2.1): per head, one [C, h/heads] ×
    /// [h/heads, R] product scores every candidate against every distinct item, each candidate's K retrieved scores
    /// are gathered from it, and their attention weights, scattered back to a [C, R] row (summed where one item holds
    /// several retrieved positions), weigh the values in one [C, R] × [R, h/heads] product. The same function as the
    /// per-candidate gather of K keys and values that training runs (up to float rounding); 800 batched products of
    /// [16 × 16]·[16 × 1] at 200 candidates cost more in dispatch than the two dense products compute.
    /// </summary>
    private Tensor RetrievalCandidates(CtrUserState user, Tensor targetVector, Tensor target, long c)
    {
        var o = _options;
        int h = o.HiddenDim, heads = o.Heads, headDim = h / heads;
        long k = Math.Min(o.RetrievalTopK, user.Length);
        var (retrieved, retrievedMaskFloat) = GsuSelect(targetVector, user, (int)k);
        var keys = user.EsuKeys!; // [heads, h/heads, R]
        long r = keys.shape[2];
        var query = esuQuery.forward(target).view(c, heads, headDim).transpose(0, 1); // [heads, C, h/heads]
        var index = retrieved.view(1, c, k).expand(heads, c, k);
        using Scalar scale = Math.Sqrt(h / (double)heads);
        var scores = query.bmm(keys).gather(2, index).div_(scale); // [heads, C, K]
        Tensor weights;
        if (retrievedMaskFloat is null)
        {
            weights = scores.softmax(-1);
        }
        else
        {
            var headMaskFloat = retrievedMaskFloat.view(1, c, k).expand(heads, c, k);
            using Scalar zero = 0.0;
            weights = MaskedSoftmax(scores, headMaskFloat.gt(zero), headMaskFloat);
        }
        var spread = zeros(heads, c, r, dtype: weights.dtype, device: weights.device).scatter_add_(2, index, weights); // [heads, C, R]
        var attended = spread.bmm(user.EsuValues!).transpose(0, 1).reshape(c, h); // [C, h]
        return esuOutput.forward(attended);
    }

    /// <summary>
    /// The GSU's selection for the split path: for each candidate (knowledge vectors [C, d]), the table rows at its top-K
    /// positions, newest position first, and (only when the user has padding) whether each is a real position [C, K]
    /// float. The selection is <see cref="GsuTopK"/>'s: by the keys round(cos · 2³⁰) · L + l of float64 cosines, padding
    /// at −2 (<see cref="SelectByKeys"/>, the same float64 arithmetic: a power-of-two scale, round half to even, exact
    /// integer products).
    /// <para>
    /// On the CPU the float64 [C × R] product of unit vectors, the largest part of the candidate step's arithmetic, is
    /// replaced by a float32 screen at twice the speed: the candidates' raw vectors (float32 already, so the only rounding
    /// is the history's) times the history's float32 unit vectors, divided by the candidates' norms. Where the K-th and
    /// the (K+1)-th best screened cosines are further apart than twice the screen's error bound
    /// (<see cref="ScreenError"/>), the screen's top K is the float64 top K, whatever the float32 kernel's rounding. Only
    /// where they are not (near ties, items with equal vectors, padding) do the positions within that margin of the
    /// boundary get their float64 cosines, a managed dot product of unit vectors, and the keys decide. On other devices
    /// the float64 product runs there and its cosines are read back (<paramref name="useScreen"/> false: on the CPU too, the
    /// reference the screen is tested against).
    /// </para>
    /// </summary>
    internal static (Tensor Rows, Tensor? MaskFloat) GsuSelect(Tensor targetVector, CtrUserState user, int k, bool useScreen = true)
    {
        var device = targetVector.device;
        bool screened = useScreen && user.UnitHistoryFloat32 is not null;
        var unitHistory = user.UnitHistory!;
        var history = user.HistoryRows;
        int length = history.Length;
        long c = targetVector.shape[0], r = unitHistory.shape[0], d = unitHistory.shape[1];
        using var source = screened
            ? targetVector.matmul(user.UnitHistoryFloat32!.t()).contiguous() // [C, R], not yet divided by the target norms
            : nn.functional.normalize(targetVector.to_type(ScalarType.Float64), p: 2, dim: 1).matmul(unitHistory.t()).cpu().contiguous();
        using var norms = screened ? targetVector.norm(1).contiguous() : null;
        using var targets = screened ? targetVector.contiguous() : null;
        var rows = empty(c * k, dtype: ScalarType.Int64);
        var maskFloat = user.HasPadding ? empty(c * k, dtype: ScalarType.Float32) : null;
        var rowsData = MemoryMarshal.Cast<byte, long>(rows.bytes);
        var maskData = maskFloat is null ? default : MemoryMarshal.Cast<byte, float>(maskFloat.bytes);
        var screen = screened ? MemoryMarshal.Cast<byte, float>(source.bytes) : default;
        var exact = screened ? default : MemoryMarshal.Cast<byte, double>(source.bytes);
        var normData = norms is null ? default : MemoryMarshal.Cast<byte, float>(norms.bytes);
        var targetData = targets is null ? default : MemoryMarshal.Cast<byte, float>(targets.bytes);
        var tableData = screened ? MemoryMarshal.Cast<byte, double>(unitHistory.bytes) : default;
        double slack = 2 * ScreenError((int)d);
        // Per table row: its float64 cosine for the candidate at hand (near ties only), and for which candidate it was taken.
        var cosines = screened ? new double[r] : null;
        var takenFor = screened ? new long[r] : null;
        var target = screened ? new double[d] : null;
        Span<double> bestKeys = stackalloc double[k];
        Span<int> bestPositions = stackalloc int[k];
        int kept = Math.Min(k + 1, length);
        Span<double> screenBest = stackalloc double[kept];
        Span<int> screenPositions = stackalloc int[kept];
        for (long candidate = 0; candidate < c; candidate++)
        {
            if (!screened)
            {
                SelectByKeys(exact.Slice((int)(candidate * r), (int)r), history, bestKeys, bestPositions);
            }
            else
            {
                var screenRow = screen.Slice((int)(candidate * r), (int)r);
                double scale = 1 / Math.Max(normData[(int)candidate], 1e-12);
                int filled = 0;
                for (int position = 0; position < length; position++)
                {
                    long item = history[position];
                    InsertBestFirst(screenBest, screenPositions, ref filled, item > 0 ? screenRow[(int)item] * scale : -2, position);
                }
                if (kept == k || screenBest[k - 1] - screenBest[k] > slack)
                {
                    screenPositions[..k].CopyTo(bestPositions);
                }
                else
                {
                    // A near tie at the boundary: float64 cosines for the positions that could be in the top K (the rest
                    // at −3, below padding, so that they never are), then the keys.
                    double threshold = screenBest[k - 1] - slack;
                    var raw = targetData.Slice((int)(candidate * d), (int)d);
                    for (int i = 0; i < raw.Length; i++) target![i] = raw[i];
                    double inverseNorm = 1 / Math.Max(Math.Sqrt(Dot(target, target)), 1e-12); // as normalize, with its floor
                    for (int i = 0; i < target!.Length; i++) target[i] *= inverseNorm;
                    foreach (long item in history)
                    {
                        if (item == 0 || takenFor![item] == candidate + 1) continue;
                        takenFor[item] = candidate + 1;
                        cosines![item] = screenRow[(int)item] * scale < threshold ? -3 : Dot(target, tableData.Slice((int)(item * d), (int)d));
                    }
                    SelectByKeys(cosines, history, bestKeys, bestPositions);
                }
            }
            // Newest position first, whichever way the set was found: the ESU's sums then run in one order, so a
            // candidate's score does not depend on the screen's rounding or on whether the float64 keys were needed.
            bestPositions.Sort(static (x, y) => y.CompareTo(x));
            for (int i = 0; i < k; i++)
            {
                long item = history[bestPositions[i]];
                rowsData[(int)(candidate * k + i)] = item;
                if (maskFloat is not null) maskData[(int)(candidate * k + i)] = item > 0 ? 1f : 0f;
            }
        }
        return device.type == DeviceType.CPU ? (rows, maskFloat) : (rows.to(device), maskFloat?.to(device));
    }

    /// <summary>
    /// The positions of the best <paramref name="bestPositions"/>.Length keys round(cos · 2³⁰) · L + l, best first, of the
    /// float64 cosines by table row (row 0, padding, at −2): <see cref="GsuTopK"/>'s selection in managed code.
    /// </summary>
    private static void SelectByKeys(ReadOnlySpan<double> cosines, long[] history, Span<double> bestKeys, Span<int> bestPositions)
    {
        int length = history.Length, filled = 0;
        for (int position = 0; position < length; position++)
        {
            long item = history[position];
            double cosine = item > 0 ? cosines[(int)item] : -2;
            InsertBestFirst(bestKeys, bestPositions, ref filled, Math.Round(cosine * (1L << 30), MidpointRounding.ToEven) * length + position, position);
        }
    }

    /// <summary>
    /// Inserts <paramref name="value"/> at <paramref name="position"/> into a best-first list of at most
    /// <paramref name="best"/>.Length values (<paramref name="filled"/> of them so far). Positions arrive oldest first, so
    /// a value equal to ones already listed goes before them: the newer position wins a tie, as in the keys (whose values
    /// are all distinct).
    /// </summary>
    private static void InsertBestFirst(Span<double> best, Span<int> positions, ref int filled, double value, int position)
    {
        if (filled == best.Length && value < best[^1]) return;
        int at = filled < best.Length ? filled++ : best.Length - 1;
        while (at > 0 && best[at - 1] <= value)
        {
            best[at] = best[at - 1];
            positions[at] = positions[at - 1];
            at--;
        }
        best[at] = value;
        positions[at] = position;
    }

    /// <summary>
    /// A bound on |screened cosine − float64 cosine| at dimension <paramref name="d"/>: the candidate's vector is float32
    /// already, rounding the history's unit vector to float32 changes each product tᵢyᵢ by at most u|tᵢyᵢ| (u = 2⁻²⁴),
    /// summing d products in float32 adds at most (d − 1)u Σ|tᵢyᵢ|, and Σ|tᵢyᵢ| ≤ ‖t‖‖y‖ = ‖t‖ (Cauchy–Schwarz), which
    /// the division by ‖t‖ (its float32 norm, relative error about d·u) removes: about 2d·u, taken as 4(d + 2)u, which
    /// also covers the keys' 2⁻³⁰ grid.
    /// </summary>
    private static double ScreenError(int d) => 4.0 * (d + 2) / (1 << 24);

    /// <summary>Float64 dot product of two equal-length vectors, vectorised.</summary>
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var sum = Vector<double>.Zero;
        int i = 0;
        for (; i <= x.Length - Vector<double>.Count; i += Vector<double>.Count)
            sum += new Vector<double>(x.Slice(i)) * new Vector<double>(y.Slice(i));
        double total = Vector.Sum(sum);
        for (; i < x.Length; i++) total += x[i] * y[i];
        return total;
    }

    /// <summary>
    /// The GSU's top-K positions of float64 cosines [N, L] with ties broken toward the newest position. Items with equal
    /// knowledge vectors tie exactly, and which of them is retrieved must not depend on how the cosines were computed
    /// (a [B, L] batched product when training, a [C × R] matmul when serving; float32 kernels of different shapes differ
    /// in the last bit): cosines are taken in float64 and compared on a 2⁻³⁰ grid, far coarser than float64 rounding
    /// and far finer than any real difference of cosines.
    /// </summary>
    private static Tensor GsuTopK(Tensor similarity, long k)
    {
        long length = similarity.shape[1];
        var position = arange(length, dtype: ScalarType.Float64, device: similarity.device);
        var key = similarity.mul(1L << 30).round().mul(length).add(position);
        return key.topk((int)k, dim: 1).indexes;
    }

    /// <summary>DIN's first-layer weight split by input block: query, key, query − key, query ⊙ key ([a, h] each).</summary>
    private (Tensor Query, Tensor Key, Tensor Difference, Tensor Product) DinWeights()
    {
        var blocks = dinHidden.weight!.chunk(4, 1);
        return (blocks[0], blocks[1], blocks[2], blocks[3]);
    }

    /// <summary>Knowledge projection plus (SID on) the summed per-level semantic-id embeddings: e_i of §2.2.2.</summary>
    private Tensor ItemRepresentation(Tensor vectors, Tensor sids)
    {
        var projected = itemProjection.forward(vectors);
        if (!_options.UseSid) return projected;
        // Unknown codes (0) map to each level's own "unknown" row.
        using Scalar stride = (long)(_options.SidCodebookSize + 1);
        var offsets = arange(_options.SidLevels, dtype: ScalarType.Int64, device: sids.device).mul_(stride);
        var rowsOf = sids + offsets;
        return projected + sidEmbedding.forward(rowsOf).sum(1);
    }

    /// <summary>
    /// DIN: an MLP over [q, k, q − k, q ⊙ k] scores each position; masked softmax; weighted sum. The first layer is
    /// linear, so W·[q, k, q − k, q ⊙ k] = (W_q + W_d)·q + (W_k − W_d)·k + W_p·(q ⊙ k) without materialising the
    /// [B, L, 4h] features: the k term once per distinct item of the batch (gathered to the positions), the q term once
    /// per row, and only the q ⊙ k term per position (a quarter of the former first-layer matmul, and no concatenation
    /// to run forward and backward). The same function of the same weights, as the split scoring path computes it.
    /// </summary>
    private Tensor Din(Tensor rows, Tensor history, Tensor sequence, Tensor target, Tensor mask, Tensor maskFloat)
    {
        var (query, key, difference, product) = DinWeights();
        long b = sequence.shape[0], length = sequence.shape[1];
        var keyTerm = rows.matmul((key - difference).t()).index_select(0, history.flatten()).view(b, length, -1); // [B, L, a]
        var queryTerm = target.matmul((query + difference).t()) + dinHidden.bias!; // [B, a]
        var hidden = (sequence * target.unsqueeze(1)).matmul(product.t()).add_(keyTerm).add_(queryTerm.unsqueeze(1)); // [B, L, a]
        var scores = dinScore.forward(nn.functional.gelu(hidden)).squeeze(2);
        var weights = MaskedSoftmax(scores, mask, maskFloat);
        return weights.unsqueeze(1).bmm(sequence).squeeze(1);
    }

    /// <summary>
    /// The training batch's rows laid out per distinct user: the first row of each user ([U], in owner order), the
    /// number of columns C (the most rows of one user) and each row's cell owner·C + rank in a [U·C] grid. Null where
    /// the grid would be much larger than the batch (a few users with many rows among many with one): the padding
    /// cells would cost more than sharing the sequence saves.
    /// </summary>
    private static (Tensor FirstRows, long Users, long Columns, Tensor Cell)? UserCells(Tensor group, long b)
    {
        var owner = group.select(1, 0);
        var rank = group.select(1, 1);
        var firstRows = rank.eq(0).nonzero().squeeze(1);
        long users = firstRows.shape[0], columns = rank.max().item<long>() + 1;
        if (columns == 1 || users * columns * 4 > b * 5) return null;
        return (firstRows, users, columns, owner * columns + rank);
    }

    /// <summary>
    /// <see cref="Din"/> with each user's sequence gathered once and all its rows (candidates) scored against it in
    /// one batched product, as the split scoring path does per request (§2.2.1 "System Deployment"): the q ⊙ k term
    /// is k · (q ⊙ W_p)ᵀ, a [L, h] × [h, C·a] product per user, so neither the per-row [B, L, h] copy of the sequence
    /// nor its elementwise product with the target (nor their gradients) exist, and the weighted sum is one [C, L] ×
    /// [L, h] product per user. The same function of the same weights as <see cref="Din"/> (up to float rounding).
    /// </summary>
    private Tensor DinGrouped(Tensor rows, Tensor history, (Tensor FirstRows, long Users, long Columns, Tensor Cell) cells, Tensor target,
        Tensor mask, Tensor maskFloat)
    {
        var (query, key, difference, product) = DinWeights();
        var (firstRows, u, c, cell) = cells;
        long length = history.shape[1], h = target.shape[1], a = product.shape[0];
        var userHistory = history.index_select(0, firstRows).flatten(); // [U·L]
        var sequence = rows.index_select(0, userHistory).view(u, length, h);
        var targets = zeros(u * c, h, dtype: target.dtype, device: target.device).index_copy(0, cell, target).view(u, c, 1, h);
        var productWeights = targets.mul(product.unsqueeze(0).unsqueeze(0)).view(u, c * a, h); // [U, C·a, h]
        var hidden = sequence.bmm(productWeights.transpose(1, 2)).view(u, length, c, a); // [U, L, C, a]
        var keyTerm = rows.matmul((key - difference).t()).index_select(0, userHistory).view(u, length, 1, a);
        var queryTerm = targets.view(u, c, h).matmul((query + difference).t()).add(dinHidden.bias!).view(u, 1, c, a);
        hidden = hidden.add(keyTerm).add(queryTerm);
        var scores = dinScore.forward(nn.functional.gelu(hidden)).view(u, length, c).transpose(1, 2); // [U, C, L]
        var userMask = mask.index_select(0, firstRows).unsqueeze(1).expand(u, c, length);
        var userMaskFloat = maskFloat.index_select(0, firstRows).unsqueeze(1).expand(u, c, length);
        var weights = MaskedSoftmax(scores, userMask, userMaskFloat);
        return weights.bmm(sequence).view(u * c, h).index_select(0, cell);
    }

    /// <summary>
    /// GSU (Eq. 1): top-K history positions by cosine between the raw knowledge vectors of target and history (ties to
    /// the newest, <see cref="GsuTopK"/>).
    /// ESU (Eqs. 2–3): multi-head attention with the target as query over the retrieved items; K/V projections
    /// computed once per unique retrieved item of the batch and gathered (§2.2.1 "System Deployment").
    /// </summary>
    private Tensor Retrieval(Tensor table, Tensor rows, Tensor history, Tensor? group, Tensor targetVector, Tensor target, Tensor mask, long b)
    {
        var o = _options;
        int h = o.HiddenDim;
        long length = history.shape[1];
        long k = Math.Min(o.RetrievalTopK, length);
        Tensor retrieved, retrievedMask;
        using (no_grad())
        {
            // Each distinct item normalised once, then gathered to the positions: the same float64 unit vectors (row by
            // row the same arithmetic) as normalising the gathered [B, L, d] copy, with a fraction of the memory traffic.
            var unitTable = nn.functional.normalize(table.to_type(ScalarType.Float64), p: 2, dim: 1);
            var unitTarget = nn.functional.normalize(targetVector.to_type(ScalarType.Float64), p: 2, dim: 1);
            var similarity = (group is null ? RowCosines(unitTable, history, unitTarget) : GroupCosines(unitTable, history, group, unitTarget))
                .MaskedFill(mask.logical_not(), -2);
            var positions = GsuTopK(similarity, k);
            retrieved = history.gather(1, positions);
            retrievedMask = mask.gather(1, positions);
        }
        var (unique, inverse, _) = torch.unique(retrieved.flatten(), sorted: false, return_inverse: true);
        var uniqueRows = rows.index_select(0, unique);
        var keys = esuKey.forward(uniqueRows).index_select(0, inverse!).view(b, k, o.Heads, h / o.Heads).permute(0, 2, 1, 3);
        var values = esuValue.forward(uniqueRows).index_select(0, inverse!).view(b, k, o.Heads, h / o.Heads).permute(0, 2, 1, 3);
        var query = esuQuery.forward(target).view(b, o.Heads, h / o.Heads, 1);
        var scores = keys.matmul(query).squeeze(3) / Math.Sqrt(h / (double)o.Heads); // [B, heads, K]
        var headMask = retrievedMask.unsqueeze(1).expand(b, o.Heads, k);
        var weights = MaskedSoftmax(scores, headMask, headMask.to_type(ScalarType.Float32));
        var attended = weights.unsqueeze(2).matmul(values).squeeze(2).reshape(b, h);
        return esuOutput.forward(attended);
    }

    /// <summary>Float64 cosines [B, L] of each row's target with its history, the history gathered per row.</summary>
    private static Tensor RowCosines(Tensor unitTable, Tensor history, Tensor unitTarget)
    {
        long b = history.shape[0], length = history.shape[1];
        return unitTable.index_select(0, history.flatten()).view(b, length, -1).bmm(unitTarget.unsqueeze(2)).squeeze(2);
    }

    /// <summary>
    /// The same cosines with each distinct history gathered once ([U, L, d] instead of [B, L, d] float64, the largest
    /// tensor of a training step when a user's impressions come together): each user's targets are laid out in
    /// [U, C, d] by their rank, one batched [L × d]·[d × C] product per user, and every row picks its own column.
    /// </summary>
    private static Tensor GroupCosines(Tensor unitTable, Tensor history, Tensor group, Tensor unitTarget)
    {
        long length = history.shape[1], d = unitTable.shape[1];
        var owner = group.select(1, 0);
        var rank = group.select(1, 1);
        var firstRows = rank.eq(0).nonzero().squeeze(1); // [U], in owner order
        long users = firstRows.shape[0], columns = rank.max().item<long>() + 1;
        var unitHistory = unitTable.index_select(0, history.index_select(0, firstRows).flatten()).view(users, length, d);
        var cell = owner * columns + rank;
        var targets = zeros(users * columns, d, dtype: unitTarget.dtype, device: unitTarget.device).index_copy_(0, cell, unitTarget).view(users, columns, d);
        return unitHistory.bmm(targets.transpose(1, 2)).transpose(1, 2).reshape(users * columns, length).index_select(0, cell);
    }

    /// <summary>
    /// Stage 1: anchors A (queries) cross-attend over the whole sequence, a soft clustering into interest groups
    /// (every item gets gradient). Stage 2: the target attends over the compressed anchors.
    /// <para>
    /// Stage 1 does not depend on the target (§2.2.2; the split scoring path caches it per user), so with
    /// <paramref name="group"/> it runs once per distinct sequence of the batch (rows of one user share it) and its
    /// [U, M, h] result is gathered to the rows. The anchor scores are taken per table row ([R, M]: the key projection
    /// of each distinct item dotted with the M anchor queries) and gathered to the positions, instead of gathering
    /// [·, L, h] keys: the same dot products, an eighth of the gather and of its backward scatter.
    /// </para>
    /// </summary>
    private Tensor Compression(Tensor rows, Tensor history, Tensor? group, Tensor target, Tensor mask, Tensor maskFloat)
    {
        int h = _options.HiddenDim, m = _options.InterestAnchors;
        Tensor? owner = null;
        if (group is not null)
        {
            owner = group.select(1, 0);
            var firstRows = group.select(1, 1).eq(0).nonzero().squeeze(1); // [U], in owner order
            history = history.index_select(0, firstRows);
            mask = mask.index_select(0, firstRows);
            maskFloat = maskFloat.index_select(0, firstRows);
        }
        long sequences = history.shape[0], length = history.shape[1];
        var flat = history.flatten();
        var queries = anchorQuery.forward(anchors); // [M, h]
        using Scalar scale = Math.Sqrt(h);
        var rowScores = compressionKey.forward(rows).matmul(queries.t()); // [R, M]
        var scores = rowScores.index_select(0, flat).view(sequences, length, m).transpose(1, 2).div(scale); // [U, M, L]
        var values = compressionValue.forward(rows).index_select(0, flat).view(sequences, length, h);
        var expandedMask = mask.unsqueeze(1).expand(sequences, m, length);
        var weights = MaskedSoftmax(scores, expandedMask, maskFloat.unsqueeze(1).expand(sequences, m, length));
        var compressed = weights.matmul(values).add(anchors.unsqueeze(0)); // [U, M, h]
        if (owner is not null) compressed = compressed.index_select(0, owner); // [B, M, h]
        var extraction = compressed.matmul(extractionQuery.forward(target).unsqueeze(2)).squeeze(2).div(scale);
        return extraction.softmax(1).unsqueeze(1).matmul(compressed).squeeze(1);
    }

    /// <summary>Softmax over the last dimension that gives padding zero weight; an all-padding row gets all zeros.</summary>
    private static Tensor MaskedSoftmax(Tensor scores, Tensor mask, Tensor maskFloat) =>
        scores.MaskedFill(mask.logical_not(), -1e9).softmax(-1) * maskFloat;
}
