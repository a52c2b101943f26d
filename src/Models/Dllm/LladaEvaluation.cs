namespace ReaSeq.Models.Dllm;

/// <summary>The §4.2.1 metrics for one batch: on supervised [MASK] tokens and on unsupervised [FILL] tokens.</summary>
public sealed record LladaEvaluation(InBatchMetricResult Mask, InBatchMetricResult Fill);
