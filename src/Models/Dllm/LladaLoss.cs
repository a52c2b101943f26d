namespace ReaSeq.Models.Dllm;

/// <summary>Training objectives compared in paper Table 5 (§4.2.2).</summary>
public enum LladaLoss
{
    /// <summary>Eq. 6–7: softmax over cosine similarities to in-batch targets, scaled by a temperature.</summary>
    SampledSoftmax,

    /// <summary>Point-wise 1 − cos(prediction, target) (Table 5, "cos").</summary>
    Cosine,

    /// <summary>Point-wise Euclidean distance ‖prediction − target‖ (Table 5, "euc").</summary>
    Euclidean,
}
