using static TorchSharp.torch;

namespace ReaSeq.Models.Dllm;

/// <summary>
/// Predictions at the [FILL] positions of a batch (paper §3.2.3, step 2), in row-major order:
/// <see cref="Vectors"/> [F, itemVectorDim], and for each row its <see cref="Sequences"/> and
/// <see cref="Positions"/> (both [F], int64). The caller owns (and disposes) the tensors.
/// </summary>
public sealed record LladaFillResult(Tensor Vectors, Tensor Sequences, Tensor Positions) : IDisposable
{
    public void Dispose()
    {
        Vectors.Dispose();
        Sequences.Dispose();
        Positions.Dispose();
    }
}
