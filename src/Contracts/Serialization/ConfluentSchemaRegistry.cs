using Confluent.SchemaRegistry;
using AvroSchema = Avro.Schema;

namespace ReaSeq.Contracts.Serialization;

/// <summary>
/// A Confluent-compatible Schema Registry through Confluent.SchemaRegistry's cached client. Calls are bounded by a
/// timeout: a registry that does not answer fails loudly instead of stalling a consumer forever.
/// </summary>
public sealed class ConfluentSchemaRegistry(string url, TimeSpan timeout) : ISchemaRegistry, IDisposable
{
    private readonly CachedSchemaRegistryClient _client = new(new SchemaRegistryConfig
    {
        Url = url,
        RequestTimeoutMs = (int)timeout.TotalMilliseconds,
        MaxRetries = 1,
    });

    public int GetOrRegisterId(string subject, AvroSchema schema) =>
        Wait(_client.RegisterSchemaAsync(subject, new Confluent.SchemaRegistry.Schema(schema.ToString(), SchemaType.Avro)), $"register {subject}");

    public AvroSchema GetSchema(int id) =>
        AvroSchema.Parse(Wait(_client.GetSchemaAsync(id), $"fetch schema {id}").SchemaString);

    private T Wait<T>(Task<T> task, string what)
    {
        if (!task.Wait(timeout + timeout))
            throw new TimeoutException($"Schema registry at {url} did not answer to '{what}' within {timeout + timeout}");
        return task.GetAwaiter().GetResult();
    }

    public void Dispose() => _client.Dispose();
}
