using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReaSeq.Tests.Knowledge;

/// <summary>One chat-completions request as the endpoint received it.</summary>
public sealed record ChatRequest(string Body, IReadOnlyList<(string Role, string Content)> Messages)
{
    public string System => Messages.First(m => m.Role == "system").Content;
    public string FirstUser => Messages.First(m => m.Role == "user").Content;

    /// <summary>The prompt template name from the system header, e.g. "layer3-item".</summary>
    public string Template => new[] { "layer1-demand", "layer1-attribute", "layer2-refine", "layer3-item" }.First(t => System.Contains(t, StringComparison.Ordinal));

    /// <summary>The JSON between &lt;data&gt; and &lt;/data&gt; of the first user message.</summary>
    public JsonNode Data
    {
        get
        {
            int start = FirstUser.IndexOf("<data>\n", StringComparison.Ordinal) + "<data>\n".Length;
            int end = FirstUser.IndexOf("\n</data>", start, StringComparison.Ordinal);
            return JsonNode.Parse(FirstUser[start..end])!;
        }
    }
}

public sealed record ScriptedReply(int Status = 200, string? Content = null, TimeSpan Delay = default, string? RawBody = null,
                                   IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>
/// An OpenAI-compatible /v1/chat/completions endpoint on 127.0.0.1 whose answers come from a script. It stands in
/// for an LLM endpoint, which these tests cannot reach; the HTTP exchange and the OpenAI client are real.
/// </summary>
public sealed class ScriptedChatServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Func<ChatRequest, int, Task<ScriptedReply>> _script;
    private readonly CancellationTokenSource _stop = new();
    private int _requestCount;
    private int _inFlight;
    private int _maxInFlight;

    public ScriptedChatServer(Func<ChatRequest, int, Task<ScriptedReply>> script)
    {
        _script = script;
        int port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        BaseUrl = $"http://127.0.0.1:{port}/v1";
        _ = Task.Run(AcceptLoop);
    }

    public ScriptedChatServer(Func<ChatRequest, int, ScriptedReply> script) : this((r, n) => Task.FromResult(script(r, n))) { }

    public string BaseUrl { get; }
    public ConcurrentQueue<ChatRequest> Requests { get; } = new();
    public int MaxConcurrentRequests => Volatile.Read(ref _maxInFlight);

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening) { return; }
            _ = Task.Run(() => Handle(context));
        }
    }

    private async Task Handle(HttpListenerContext context)
    {
        int now = Interlocked.Increment(ref _inFlight);
        for (int seen = Volatile.Read(ref _maxInFlight); now > seen; seen = Volatile.Read(ref _maxInFlight))
            if (Interlocked.CompareExchange(ref _maxInFlight, now, seen) == seen) break;
        try
        {
            if (context.Request.HttpMethod != "POST" || context.Request.Url?.AbsolutePath != "/v1/chat/completions")
            {
                context.Response.StatusCode = 404;
                context.Response.Close();
                return;
            }
            string body = await new StreamReader(context.Request.InputStream, Encoding.UTF8).ReadToEndAsync();
            var request = new ChatRequest(body, ParseMessages(body));
            Requests.Enqueue(request);
            var reply = await _script(request, Interlocked.Increment(ref _requestCount));
            if (reply.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, _stop.Token);

            context.Response.StatusCode = reply.Status;
            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>()) context.Response.Headers[name] = value;
            string payload = reply.RawBody ?? (reply.Status == 200
                ? Completion(reply.Content ?? "")
                : JsonSerializer.Serialize(new { error = new { message = $"scripted status {reply.Status}", type = "scripted" } }));
            var bytes = Encoding.UTF8.GetBytes(payload);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength64 = bytes.Length;
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
        catch (Exception)
        {
            // The client may have given up (timeout test) — nothing to answer then.
            try { context.Response.Abort(); } catch (Exception) { }
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static List<(string Role, string Content)> ParseMessages(string body)
    {
        var messages = new List<(string, string)>();
        foreach (var message in JsonNode.Parse(body)!["messages"]!.AsArray())
        {
            var content = message!["content"];
            string text = content is JsonArray parts
                ? string.Concat(parts.Select(p => (string?)p!["text"] ?? ""))
                : (string?)content ?? "";
            messages.Add(((string)message["role"]!, text));
        }
        return messages;
    }

    private static string Completion(string content) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-scripted",
        @object = "chat.completion",
        created = 1_700_000_000,
        model = "scripted",
        choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
        usage = new { prompt_tokens = 10, completion_tokens = 10, total_tokens = 20 },
    });

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Close();
        _stop.Dispose();
    }
}

/// <summary>
/// A deterministic, well-behaved scripted "model": it reads the task's data block and answers in the required
/// format, quoting the item's title as evidence. Tests turn parts of it bad on purpose.
/// </summary>
public static class GroundedScript
{
    public static string Answer(ChatRequest request)
    {
        var data = request.Data;
        object json = request.Template switch
        {
            "layer1-demand" => Layer1Demand(data),
            "layer1-attribute" => Layer1Attribute(data),
            "layer2-refine" => Layer2(data),
            _ => Layer3(request, data),
        };
        return $"Reasoning: grouped the data by what it expresses.\n\n```json\n{JsonSerializer.Serialize(json)}\n```";
    }

    private static object Layer1Demand(JsonNode data)
    {
        var expressions = data["queries"] is JsonArray queries
            ? queries.Select(q => (string)q!).ToList()
            : data["items"]!.AsArray().Select(i => (string)i!["title"]!).ToList();
        return new
        {
            dimensions = new object[]
            {
                new { label = "Product type", description = "what kind of product is sought", members = expressions.Take(3) },
                new { label = "Use occasion", description = "when or for what it is used", members = expressions.Skip(3).Take(3) },
            },
        };
    }

    private static object Layer1Attribute(JsonNode data)
    {
        if (data["attributes"] is JsonArray attributes)
        {
            return new
            {
                dimensions = attributes.Take(4).Select(a => new
                {
                    label = $"{(string)a!["key"]!} properties",
                    description = $"merchant key {(string)a["key"]!}",
                    members = new[] { (string)a["key"]! },
                }),
            };
        }

        return new { dimensions = new object[] { new { label = "Material", description = "what it is made of", members = Array.Empty<string>() } } };
    }

    private static object Layer2(JsonNode data) => new
    {
        reasoning = "All parent dimensions apply to the sub-category.",
        dimensions = data["parentDimensions"]!.AsArray().Select(d => new
        {
            label = (string)d!["label"]!,
            description = (string)d["description"]!,
            origin = "inherited",
            justification = "applies unchanged",
            members = d["members"]!.AsArray().Select(m => (string)m!).ToArray(),
        }),
    };

    private static object Layer3(ChatRequest request, JsonNode data)
    {
        const string marker = "Dimensions to describe the item along:\n";
        string user = request.FirstUser;
        int start = user.IndexOf(marker, StringComparison.Ordinal) + marker.Length;
        var dimensions = JsonNode.Parse(user[start..user.IndexOf('\n', start)])!.AsArray();
        string title = (string)data["title"]!;
        int secondSpace = title.IndexOf(' ', title.IndexOf(' ') + 1);
        string evidence = secondSpace > 0 ? title[..secondSpace] : title;
        return new
        {
            dimensions = dimensions.Select(d => new
            {
                perspective = (string)d!["perspective"]!,
                label = (string)d["label"]!,
                evidence = new[] { evidence },
                analysis = $"The title states \"{evidence}\".",
                keywords = evidence.ToLowerInvariant().Split(' '),
            }),
        };
    }
}
