namespace ReaSeq.Host;

/// <summary>A mistake of the user (a value, a file, a configuration key): one line on stderr, exit code 2.</summary>
public sealed class UserException(string message) : Exception(message);
