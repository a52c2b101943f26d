using TorchSharp;
using static TorchSharp.torch;

namespace ReaSeq.Models.Training;

/// <summary>
/// Tensor calls that take a number, with the number's <see cref="Scalar"/> kept alive until libtorch has read it. An
/// implicit conversion (<c>t.masked_fill(m, -1)</c>) creates a Scalar that is unreachable as soon as its handle is passed, so a
/// garbage collection during the native call can finalize it mid-read ("Unknown scalar type", "Expected false to be true"
/// from c10::Scalar::toFloat) — seen under parallel tests. Disposing it after the call keeps it reachable until then.
/// </summary>
public static class ScalarSafeTensorExtensions
{
    public static Tensor MaskedFill(this Tensor tensor, Tensor mask, double value)
    {
        using Scalar scalar = value;
        return tensor.masked_fill(mask, scalar);
    }

    public static Tensor MaskedFill_(this Tensor tensor, Tensor mask, double value)
    {
        using Scalar scalar = value;
        return tensor.masked_fill_(mask, scalar);
    }
}
