using System.ComponentModel.DataAnnotations;
using ReaSeq.Processors.Knowledge.Agents.Extractive;
using ReaSeq.Processors.Knowledge.Agents.LlamaSharp;
using ReaSeq.Processors.Knowledge.Agents.OpenAi;

namespace ReaSeq.Processors.Knowledge.Agents;

/// <summary>Which agent backend runs, bound from configuration (section "Knowledge:Agents").</summary>
public sealed class KnowledgeAgentOptions : IValidatableObject
{
    public const string Section = "Knowledge:Agents";
    public const string Extractive = "extractive";
    public const string OpenAi = "openai";
    public const string LlamaSharp = "llamasharp";

    /// <summary>"extractive" (default: no generative model needed), "openai" or "llamasharp".</summary>
    public string Backend { get; set; } = Extractive;

    public ExtractiveAgentOptions ExtractiveOptions { get; set; } = new();
    public OpenAiAgentOptions OpenAiOptions { get; set; } = new();
    public LlamaSharpAgentOptions LlamaSharpOptions { get; set; } = new();

    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Backend) && Backend.Trim().ToLowerInvariant() is not (Extractive or OpenAi or LlamaSharp))
            yield return new ValidationResult($"Knowledge:Agents:Backend must be {Extractive}, {OpenAi} or {LlamaSharp}, got '{Backend}'", [nameof(Backend)]);
    }
}
