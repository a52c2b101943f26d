using Confluent.SchemaRegistry;
using AvroSchema = Avro.Schema;

namespace ReaSeq.Contracts.Serialization;

/// <summary>
/// A Confluent-compatible Schema Registry through Confluent.SchemaRegistry's cached client. Calls are bounded by a
/// timeout: a registry that does not answer fails loudly instead of stalling a consumer forever. An id the registry
/// does not know (or whose schema does not parse) is the record's fault: <see cref="ContractException"/> with error class
/// unknown_schema, so the record is dead-lettered; a registry that cannot be reached is infrastructure (the batch retries).
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

    public AvroSchema GetSchema(int id)
    {
        string text;
        try
        {
            text = Wait(_client.GetSchemaAsync(id), $"fetch schema {id}").SchemaString;
        }
        catch (SchemaRegistryException e) when (e.Status == System.Net.HttpStatusCode.NotFound)
        {
            throw new ContractException(ErrorClasses.UnknownSchema, $"Schema registry at {url} does not know schema id {id}: {e.Message}", e);
        }
        try
        {
            return AvroSchema.Parse(text);
        }
        catch (Avro.AvroException e)
        {
            throw new ContractException(ErrorClasses.UnknownSchema, $"Schema id {id} from the registry is not a valid Avro schema: {e.Message}", e);
        }
    }

    private T Wait<T>(Task<T> task, string what)
    {
        try { task.Wait(timeout + timeout); }
        catch (AggregateException) { /* rethrown unwrapped below, so callers see the registry's own exception */ }
        if (!task.IsCompleted)
            throw new TimeoutException($"Schema registry at {url} did not answer to '{what}' within {timeout + timeout}");
        return task.GetAwaiter().GetResult();
    }

    public void Dispose() => _client.Dispose();
}
