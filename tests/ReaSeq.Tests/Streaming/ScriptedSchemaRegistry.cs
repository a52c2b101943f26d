using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ReaSeq.Tests.Streaming;

/// <summary>
/// The part of a Confluent Schema Registry's REST API that Confluent.SchemaRegistry's client uses to register a schema and
/// fetch one by id, on 127.0.0.1: no registry server can run here, but the HTTP exchange and the client are real.
/// Unknown ids are answered like the registry answers them (404, error code 40403).
/// </summary>
public sealed partial class ScriptedSchemaRegistry : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentDictionary<int, string> _schemas = new();
    private readonly ConcurrentDictionary<string, int> _ids = new();
    private readonly Task _serving;

    public ScriptedSchemaRegistry()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public string Url { get; }

    [GeneratedRegex(@"^/subjects/[^/]+/versions$")]
    private static partial Regex Register();

    [GeneratedRegex(@"^/schemas/ids/(\d+)$")]
    private static partial Regex ById();

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            var path = context.Request.Url!.AbsolutePath;
            int status = 200;
            string body;
            if (context.Request.HttpMethod == "POST" && Register().IsMatch(path))
            {
                using var reader = new StreamReader(context.Request.InputStream);
                var schema = JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.GetProperty("schema").GetString()!;
                var id = _ids.GetOrAdd(schema, s =>
                {
                    var next = _ids.Count + 1;
                    _schemas[next] = s;
                    return next;
                });
                body = JsonSerializer.Serialize(new { id });
            }
            else if (context.Request.HttpMethod == "GET" && ById().Match(path) is { Success: true } match)
            {
                var id = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (_schemas.TryGetValue(id, out var schema)) body = JsonSerializer.Serialize(new { schema });
                else (status, body) = (404, JsonSerializer.Serialize(new { error_code = 40403, message = $"Schema {id} not found" }));
            }
            else
            {
                (status, body) = (404, JsonSerializer.Serialize(new { error_code = 404, message = "HTTP 404 Not Found" }));
            }
            var bytes = Encoding.UTF8.GetBytes(body);
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
    }
}
