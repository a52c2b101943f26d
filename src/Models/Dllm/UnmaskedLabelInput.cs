namespace ReaSeq.Models.Dllm;

/// <summary>
/// What a self-supervised labeled position that was not drawn for masking shows the encoder during training.
/// </summary>
public enum UnmaskedLabelInput
{
    /// <summary>
    /// Its observed item, as LLaDA shows unmasked tokens in the clean: §3.2.2 says dynamic masking exposes
    /// "partial observability scenarios where some missing positions are known (unmasked tokens)", and the
    /// masking ratio t is then also the noise level of the sequence.
    /// </summary>
    ObservedItem,

    /// <summary>
    /// The shared [FILL] embedding, so every labeled position looks alike and masking only chooses which of them
    /// carry loss (the literal reading "labeled positions become [FILL]").
    /// </summary>
    Fill,
}
