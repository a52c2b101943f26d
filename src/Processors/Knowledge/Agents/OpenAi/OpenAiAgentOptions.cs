using System.ComponentModel.DataAnnotations;
using ReaSeq.Processors.Knowledge.Prompts;

namespace ReaSeq.Processors.Knowledge.Agents.OpenAi;

public sealed class OpenAiAgentOptions
{
    /// <summary>Endpoint root including the API version path, e.g. https://api.openai.com/v1 or http://127.0.0.1:8000/v1.</summary>
    [Required] public string BaseUrl { get; set; } = "";

    [Required] public string Model { get; set; } = "";

    /// <summary>Optional: many self-hosted endpoints need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Per attempt; a slower answer is abandoned and retried.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Transport retries (timeouts, HTTP 429 and 5xx, connection failures) after the first attempt.</summary>
    [Range(0, 20)] public int MaxRetries { get; set; } = 4;

    /// <summary>Answers tried per call before a malformed answer becomes an <see cref="AgentOutputException"/>.</summary>
    [Range(1, 10)] public int MaxOutputAttempts { get; set; } = 3;

    /// <summary>Requests in flight at once from this process (endpoints rate-limit per key).</summary>
    [Range(1, 256)] public int MaxConcurrency { get; set; } = 4;

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    public float Temperature { get; set; }
    public int MaxOutputTokens { get; set; } = 2048;

    /// <summary>Sampling seed for endpoints that support it, for reproducible answers.</summary>
    public long? Seed { get; set; } = 7;

    public string PromptVersion { get; set; } = PromptLibrary.DefaultVersion;

    public Uri Validate()
    {
        if (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"OpenAI BaseUrl '{BaseUrl}' must be an absolute http(s) URL.");
        if (!uri.AbsolutePath.TrimEnd('/').EndsWith("/v1", StringComparison.Ordinal))
            throw new ArgumentException($"OpenAI BaseUrl '{BaseUrl}' must include the API path, e.g. http://host:8000/v1.");
        if (string.IsNullOrWhiteSpace(Model)) throw new ArgumentException("OpenAI Model is required.");
        if (Timeout <= TimeSpan.Zero || InitialBackoff < TimeSpan.Zero || MaxBackoff < InitialBackoff)
            throw new ArgumentException("OpenAI Timeout must be positive and MaxBackoff at least InitialBackoff.");
        if (MaxRetries < 0 || MaxOutputAttempts < 1 || MaxConcurrency < 1 || MaxOutputTokens < 16)
            throw new ArgumentException("OpenAI MaxRetries >= 0, MaxOutputAttempts >= 1, MaxConcurrency >= 1, MaxOutputTokens >= 16.");
        return uri;
    }
}
