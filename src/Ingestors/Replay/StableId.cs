using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace ReaSeq.Ingestors.Replay;

/// <summary>
/// Content-derived ids: XxHash128 (seed 0) over the parts' UTF-8 joined by the byte 0x1F (unit separator), as 32
/// lowercase hex digits after the prefix. Same content, same id, on every run and machine. Not a cryptographic hash
/// (ids need uniqueness, not secrecy); 128 bits make an accidental collision among billions of events negligible.
/// </summary>
public static class StableId
{
    public static string From(string prefix, params ReadOnlySpan<string> parts)
    {
        var max = parts.Length;
        foreach (var part in parts) max += Encoding.UTF8.GetMaxByteCount(part.Length);
        var rented = max > 1024 ? ArrayPool<byte>.Shared.Rent(max) : null;
        try
        {
            var buffer = rented is null ? stackalloc byte[1024] : rented.AsSpan();
            var written = 0;
            for (var i = 0; i < parts.Length; i++)
            {
                if (i > 0) buffer[written++] = 0x1F;
                written += Encoding.UTF8.GetBytes(parts[i], buffer[written..]);
            }
            Span<byte> hash = stackalloc byte[16];
            XxHash128.Hash(buffer[..written], hash);
            return prefix + Convert.ToHexStringLower(hash);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
