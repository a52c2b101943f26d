using System.Security.Cryptography;
using System.Text;

namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// Content-derived ids: SHA-256 over the parts (joined by U+001F, which cannot occur in CSV text we accept as ids),
/// first 10 bytes as lowercase hex. Same content, same id, on every run and machine.
/// </summary>
public static class StableId
{
    public static string From(string prefix, params ReadOnlySpan<string> parts)
    {
        var text = string.Join('\u001F', parts.ToArray());
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return prefix + Convert.ToHexStringLower(hash[..10]);
    }
}
