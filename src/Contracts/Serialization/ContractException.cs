namespace ReaSeq.Contracts.Serialization;

/// <summary>
/// A record that cannot be accepted. <see cref="ErrorClass"/> is a short stable code (it becomes the dead letter's
/// error_class and a metric label); the message says what exactly was wrong.
/// </summary>
public sealed class ContractException(string errorClass, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string ErrorClass { get; } = errorClass;
}

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
}
