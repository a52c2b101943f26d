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
