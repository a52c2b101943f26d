namespace ReaSeq.Contracts.Serialization;

public static class ErrorClasses
{
    public const string Empty = "empty_value";
    public const string UnknownEncoding = "unknown_encoding";
    public const string UnknownSchema = "unknown_schema";
    public const string Malformed = "malformed_avro";
    public const string Validation = "validation";
    public const string Duplicate = "duplicate";
    public const string OutOfOrder = "out_of_order";
    public const string Processing = "processing";

    /// <summary>A record keyed by something else than the id that decides its partition (a click not keyed by its user_id).</summary>
    public const string KeyMismatch = "key_mismatch";
}
