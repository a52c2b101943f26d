using System.ComponentModel.DataAnnotations;
using System.Net;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Api;

/// <summary>Configuration section "Api": where the ranking API listens and how it protects itself.</summary>
public sealed class ApiOptions : IValidatableObject
{
    IEnumerable<ValidationResult> IValidatableObject.Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public const string Section = "Api";

    /// <summary>Address Kestrel listens on (one http URL). Port 0 picks a free port (tests). 8080 stays clear of the
    /// management port that serves /metrics, /healthz and /readyz.</summary>
    [Required] public string Url { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Accepted API keys (header X-Api-Key or "Authorization: Bearer KEY").</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>True/false forces keys on/off; null (default): keys are required unless the API listens on loopback only.
    /// Turning them off on a non-loopback address is refused at start.</summary>
    public bool? RequireApiKeys { get; set; }

    /// <summary>Most candidates one score request may carry (the bound: 1,000).</summary>
    [Range(1, 100_000)] public int MaxCandidates { get; set; } = 1_000;

    /// <summary>Largest request body accepted (bytes); larger ones get 413.</summary>
    [Range(1_024, 64 * 1024 * 1024)] public long MaxRequestBytes { get; set; } = 256 * 1024;

    /// <summary>Longest accepted user or item id (characters).</summary>
    [Range(1, 4_096)] public int MaxIdLength { get; set; } = 256;

    /// <summary>Requests one key (or one client address when keys are off) may make per second; excess gets 429.</summary>
    [Range(1, 1_000_000)] public int RateLimitPerSecond { get; set; } = 500;

    /// <summary>Requests that may wait for the rate limiter's next window instead of being refused at once.</summary>
    [Range(0, 100_000)] public int RateLimitQueue { get; set; }

    /// <summary>Most clicks of a user's history the score and sequence endpoints use (the ingest role keeps 1,000).</summary>
    [Range(1, 100_000)] public int HistoryLength { get; set; } = 1_000;

    /// <summary>Largest k of /v1/items/{id}/similar.</summary>
    [Range(1, 10_000)] public int MaxSimilar { get; set; } = 100;

    /// <summary>Registry name of the CTR model served (ModelVersion.model_name).</summary>
    [Required] public string ModelName { get; set; } = "ctr";

    /// <summary>How often the model registry is read for a new active version besides the announcements on reaseq.ctr-models.</summary>
    [Range(100, 86_400_000)] public int ModelPollMs { get; set; } = 30_000;

    /// <summary>
    /// libtorch threads each scoring thread's forward pass uses (default 1). The scoring threads already take one core
    /// each, so more than one per pass puts several threads per core, and a pass then waits on its libtorch helpers
    /// whenever one of them is descheduled.
    /// </summary>
    [Range(1, 256)] public int TorchThreads { get; set; } = 1;

    /// <summary>
    /// Threads that run the model on the score path (user step and candidate step; a request's candidates are split
    /// across them); 0 (default): one per core. Each runs <see cref="TorchThreads"/> libtorch threads.
    /// </summary>
    [Range(0, 256)] public int ScoringThreads { get; set; }

    public ApiCacheOptions Cache { get; set; } = new();

    /// <summary>True when keys must be presented.</summary>
    public bool KeysRequired => RequireApiKeys ?? !IsLoopback(Url);

    public void Validate()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            throw new ArgumentException($"{Section}:Url must be an absolute http URL such as http://127.0.0.1:8080 (got '{Url}').");
        if (RequireApiKeys == false && !IsLoopback(Url))
            throw new ArgumentException($"{Section}:RequireApiKeys=false is only allowed when {Section}:Url is a loopback address (got '{Url}').");
        if (KeysRequired && ApiKeys.Count(k => !string.IsNullOrWhiteSpace(k)) == 0)
            throw new ArgumentException($"{Section}:ApiKeys must name at least one key when keys are required (listening on '{Url}'); set {Section}:ApiKeys:0.");
        if (ApiKeys.Any(k => k is not null && k.Trim().Length is > 0 and < 16))
            throw new ArgumentException($"{Section}:ApiKeys: every key must have at least 16 characters.");
        Cache.Validate();
    }

    /// <summary>True when the URL's host is a loopback name or address (localhost, 127.0.0.0/8, ::1).</summary>
    public static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        if (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
