using TorchSharp.Modules;
using ReaSeq.Models.Training;
using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>
/// Counts, per level, the epochs in a row in which no training item chose a code, and re-seeds such dead codes at the
/// end of an epoch with residuals of the items the codebook serves worst (drawn ∝ their squared quantization error, as
/// k-means++ draws seeds). Judged per epoch rather than per optimiser step: with 256 codes and batches of 256 items a
/// live code is absent from most single batches, and a step-based patience longer than a small catalog's whole
/// training never fired (Appendix C keeps the codebooks in use; collisions follow from unused codes).
/// The first level is left alone: it is the coarse, k-means(++)-initialised partition of the items that makes the ids
/// hierarchical, and re-seeding its unused codes inside dense clusters would split them. The deeper levels quantize
/// residuals, where unused capacity is what makes items share a full id. Training-only state, never saved.
/// </summary>
internal sealed class CodebookUpkeep : IDisposable
{
    private readonly Tensor _epochsUnused; // [levels, codebookSize] int64
    private readonly Tensor _usedThisEpoch; // [levels, codebookSize] bool

    public CodebookUpkeep(int levels, int codebookSize, Device device)
    {
        _epochsUnused = zeros(new long[] { levels, codebookSize }, ScalarType.Int64, device).DetachFromDisposeScope();
        _usedThisEpoch = zeros(new long[] { levels, codebookSize }, ScalarType.Bool, device).DetachFromDisposeScope();
    }

    public long TotalReset { get; private set; }

    /// <summary>Marks the codes a training batch chose at <paramref name="level"/>.</summary>
    public void Observe(int level, Tensor codes)
    {
        using var _ = no_grad();
        _usedThisEpoch[level].index_fill_(0, codes.detach(), true);
    }

    /// <summary>
    /// Ends an epoch: codes unused for <paramref name="patienceEpochs"/> epochs get new values. <paramref name="latent"/>
    /// is the encoder output of the training items; residuals are recomputed level by level after each level's reset.
    /// Returns the number of codes re-seeded.
    /// </summary>
    public int EndEpoch(Parameter codebooks, Tensor latent, int patienceEpochs, Random random)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int reset = 0;
        var residual = latent.detach();
        long levels = codebooks.shape[0];
        for (int level = 0; level < levels; level++)
        {
            var unused = _epochsUnused[level];
            unused.add_(1);
            unused.MaskedFill_(_usedThisEpoch[level], 0);
            var codebook = codebooks[level];
            var dead = level == 0 ? empty(0, ScalarType.Int64, unused.device) : (unused >= patienceEpochs).nonzero().squeeze(1);
            long deadCount = dead.shape[0];
            if (deadCount > 0 && residual.shape[0] > 0)
            {
                var error = KMeans.SquaredDistances(residual, codebook).min(1).values;
                var pick = KMeans.SampleProportional(error, (int)deadCount, random);
                // Tiny jitter, so two dead codes drawn from one residual do not stay identical. Computed in managed
                // code from the run's seeded generator: a torch reduction for the scale differed in the last bits from
                // run to run, and a training must repeat exactly for its seed.
                var rows = residual.index_select(0, tensor(pick, device: residual.device)).to(ScalarType.Float32).cpu();
                int width = (int)rows.shape[1];
                var values = rows.data<float>().ToArray();
                for (int r = 0; r < pick.Length; r++)
                {
                    double squares = 0;
                    for (int j = 0; j < width; j++) squares += (double)values[r * width + j] * values[r * width + j];
                    double scale = 1e-3 * Math.Sqrt(squares / width) + 1e-7;
                    for (int j = 0; j < width; j++) values[r * width + j] += (float)((random.NextDouble() - 0.5) * 2 * scale);
                }
                var replacement = tensor(values, rows.shape, device: residual.device).to(codebook.dtype);
                codebook.index_copy_(0, dead, replacement);
                unused.index_fill_(0, dead, 0);
                reset += (int)deadCount;
            }
            var chosen = codebook.index_select(0, KMeans.SquaredDistances(residual, codebook).argmin(1));
            residual = residual - chosen;
        }
        _usedThisEpoch.zero_();
        TotalReset += reset;
        return reset;
    }

    public void Dispose()
    {
        _epochsUnused.Dispose();
        _usedThisEpoch.Dispose();
    }
}
