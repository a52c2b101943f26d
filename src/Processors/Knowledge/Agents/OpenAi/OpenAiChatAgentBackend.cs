using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;
using ReaSeq.Processors.Knowledge.Prompts;

namespace ReaSeq.Processors.Knowledge.Agents.OpenAi;

/// <summary>
/// The agents on any OpenAI-compatible chat-completions endpoint (Microsoft.Extensions.AI over the OpenAI SDK).
/// Retries timeouts, 429 and 5xx with exponential backoff and jitter (honouring Retry-After), limits concurrency,
/// and reports an endpoint that stays unreachable as <see cref="AgentUnavailableException"/>.
/// </summary>
public sealed class OpenAiChatAgentBackend : ChatAgentBackend, IDisposable
{
    private readonly IChatClient _client;
    private readonly OpenAiAgentOptions _options;
    private readonly SemaphoreSlim _concurrency;
    private readonly bool _ownsClient;

    public OpenAiChatAgentBackend(OpenAiAgentOptions options, KnowledgeMetrics? metrics = null, ILogger<OpenAiChatAgentBackend>? logger = null)
        : this(options, CreateClient(options), ownsClient: true, metrics, logger)
    {
    }

    /// <summary>Uses a caller-built chat client (e.g. with telemetry middleware); the options still govern retries and limits.</summary>
    public OpenAiChatAgentBackend(OpenAiAgentOptions options, IChatClient client, KnowledgeMetrics? metrics = null, ILogger<OpenAiChatAgentBackend>? logger = null)
        : this(options, client, ownsClient: false, metrics, logger)
    {
    }

    private OpenAiChatAgentBackend(OpenAiAgentOptions options, IChatClient client, bool ownsClient, KnowledgeMetrics? metrics, ILogger? logger)
        : base(new PromptLibrary(options.PromptVersion), options.MaxOutputAttempts, metrics, logger)
    {
        options.Validate();
        _options = options;
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _ownsClient = ownsClient;
        _concurrency = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        Name = $"openai-chat/{options.Model}";
    }

    public override string Name { get; }

    private static IChatClient CreateClient(OpenAiAgentOptions options)
    {
        var endpoint = options.Validate();
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            // Retries are ours: counted, jittered, and bounded by the options rather than the SDK's defaults.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = options.Timeout + TimeSpan.FromSeconds(5),
        };
        var credential = new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "not-needed" : options.ApiKey);
        return new OpenAIClient(credential, clientOptions).GetChatClient(options.Model).AsIChatClient();
    }

    protected override async Task<string> CompleteAsync(IReadOnlyList<ChatTurn> conversation, AnswerShape shape, CancellationToken cancellationToken)
    {
        var messages = conversation.Select(t => new ChatMessage(t.Role switch
        {
            ChatTurn.System => ChatRole.System,
            ChatTurn.Assistant => ChatRole.Assistant,
            _ => ChatRole.User,
        }, t.Text)).ToList();
        var chatOptions = new ChatOptions { Temperature = _options.Temperature, MaxOutputTokens = _options.MaxOutputTokens, Seed = _options.Seed };

        for (int attempt = 1; ; attempt++)
        {
            string reason;
            TimeSpan? retryAfter = null;
            Exception failure;
            await _concurrency.WaitAsync(cancellationToken);
            try
            {
                using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attemptTimeout.CancelAfter(_options.Timeout);
                var response = await _client.GetResponseAsync(messages, chatOptions, attemptTimeout.Token);
                return response.Text;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                (reason, failure) = ("timeout", e);
            }
            catch (ClientResultException e) when (e.Status is 429 or 408 or >= 500 or 0)
            {
                (reason, failure) = (e.Status == 429 ? "rate_limited" : e.Status == 0 ? "connection" : e.Status == 408 ? "timeout" : "server_error", e);
                retryAfter = RetryAfter(e);
            }
            catch (ClientResultException e) when (e.Status is 400 or 413 or 422)
            {
                // The request itself is refused (e.g. too long): retrying the same item cannot help.
                throw new AgentOutputException(Name, shape.Layer, AgentOutputFailure.RequestRejected, $"endpoint refused the request with HTTP {e.Status}: {e.Message}", null, e);
            }
            catch (ClientResultException e)
            {
                // 401/403/404: configuration; the item is fine and should be retried once the endpoint is fixed.
                throw new AgentUnavailableException(Name, shape.Layer, attempt, $"HTTP {e.Status}: {e.Message}", e);
            }
            catch (HttpRequestException e)
            {
                (reason, failure) = ("connection", e);
            }
            finally
            {
                _concurrency.Release();
            }

            if (attempt > _options.MaxRetries)
                throw new AgentUnavailableException(Name, shape.Layer, attempt, $"{reason}: {failure.Message}", failure);
            Metrics.Retry(Name, shape.Layer, reason);
            var delay = Backoff(attempt, retryAfter);
            Logger.LogWarning("{Backend} {Layer} attempt {Attempt} failed ({Reason}); retrying in {DelayMs} ms",
                Name, shape.Layer, attempt, reason, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>Exponential backoff with "equal jitter": half fixed, half random, so retrying clients spread out.</summary>
    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        double exponential = _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, attempt - 1);
        double capped = Math.Min(_options.MaxBackoff.TotalMilliseconds, exponential);
        double jittered = capped / 2 + Random.Shared.NextDouble() * capped / 2;
        if (retryAfter is { } hint && hint.TotalMilliseconds > jittered)
            jittered = Math.Min(hint.TotalMilliseconds, _options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(jittered);
    }

    private static TimeSpan? RetryAfter(ClientResultException e)
    {
        var response = e.GetRawResponse();
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value) || value is null) return null;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)) return TimeSpan.FromSeconds(Math.Max(0, seconds));
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            return at - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return null;
    }

    public void Dispose()
    {
        _concurrency.Dispose();
        if (_ownsClient) _client.Dispose();
    }
}
