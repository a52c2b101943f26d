using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace ReaSeq.Api.Protection;

/// <summary>
/// The configured API keys, kept as SHA-256 digests and compared in constant time. A presented key is identified in
/// rate limiting and logs by a short digest prefix, never by the key itself.
/// </summary>
public sealed class ApiKeyRing
{
    public const string HeaderName = "X-Api-Key";

    private readonly byte[][] _digests;

    public ApiKeyRing(ApiOptions options)
    {
        Required = options.KeysRequired;
        _digests = [.. options.ApiKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k.Trim())))];
    }

    public bool Required { get; }

    /// <summary>The key a request presents (X-Api-Key, or Authorization: Bearer), or null.</summary>
    public static string? Presented(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrWhiteSpace(header)) return header.ToString().Trim();
        var authorization = request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        return authorization.StartsWith(bearer, StringComparison.OrdinalIgnoreCase) ? authorization[bearer.Length..].Trim() : null;
    }

    /// <summary>The key's identity (digest prefix) when it is one of the configured keys, else null.</summary>
    public string? Identify(string key)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var match = false;
        foreach (var known in _digests) match |= CryptographicOperations.FixedTimeEquals(known, digest);
        return match ? "key:" + Convert.ToHexStringLower(digest.AsSpan(0, 6)) : null;
    }
}
