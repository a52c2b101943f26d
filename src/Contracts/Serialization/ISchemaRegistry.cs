using AvroSchema = Avro.Schema;

namespace ReaSeq.Contracts.Serialization;

/// <summary>Where Confluent-framed records get their schema ids.</summary>
public interface ISchemaRegistry
{
    int GetOrRegisterId(string subject, AvroSchema schema);
    AvroSchema GetSchema(int id);
}
