using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ReaSeq.Models.SemanticIds;

/// <summary>
/// Tracks how long each code has gone unused and re-seeds dead codes from residuals of the latest batch, so a
/// codebook keeps all of its capacity instead of collapsing onto a few codes. Training-only state, never saved.
/// </summary>
internal sealed class CodebookUpkeep : IDisposable
{
    private readonly Tensor _stepsSinceUsed; // [levels, codebookSize] int64
    private readonly Tensor?[] _lastResiduals;
    private readonly Tensor?[] _lastCodes;

    public CodebookUpkeep(int levels, int codebookSize, Device device)
    {
        _stepsSinceUsed = zeros(new long[] { levels, codebookSize }, ScalarType.Int64, device).DetachFromDisposeScope();
        _lastResiduals = new Tensor?[levels];
        _lastCodes = new Tensor?[levels];
    }

    public long TotalReset { get; private set; }

    public void Observe(int level, Tensor codes, Tensor residual)
    {
        Replace(ref _lastCodes[level], codes.detach().clone());
        Replace(ref _lastResiduals[level], residual.detach().clone());
    }

    public int ResetDeadCodes(Parameter codebooks, int patienceSteps, Random random)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        int reset = 0;
        for (int level = 0; level < _lastCodes.Length; level++)
        {
            var codes = _lastCodes[level];
            var residuals = _lastResiduals[level];
            if (codes is null || residuals is null) continue;
            var steps = _stepsSinceUsed[level];
            steps.add_(1);
            steps.index_fill_(0, codes, 0);
            var dead = (steps >= patienceSteps).nonzero().squeeze(1);
            long deadCount = dead.shape[0];
            if (deadCount == 0) continue;
            long rows = residuals.shape[0];
            var pick = new long[deadCount];
            for (int i = 0; i < pick.Length; i++) pick[i] = random.NextInt64(rows);
            var replacement = residuals.index_select(0, tensor(pick, device: residuals.device));
            codebooks[level].index_copy_(0, dead, replacement);
            steps.index_fill_(0, dead, 0);
            reset += (int)deadCount;
        }
        TotalReset += reset;
        return reset;
    }

    public void Dispose()
    {
        _stepsSinceUsed.Dispose();
        for (int i = 0; i < _lastCodes.Length; i++)
        {
            Replace(ref _lastCodes[i], null);
            Replace(ref _lastResiduals[i], null);
        }
    }

    private static void Replace(ref Tensor? slot, Tensor? value)
    {
        slot?.Dispose();
        slot = value?.DetachFromDisposeScope();
    }
}
