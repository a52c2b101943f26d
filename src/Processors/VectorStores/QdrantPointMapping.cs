using System.Security.Cryptography;
using System.Text;
using Qdrant.Client.Grpc;
using ReaSeq.Contracts.Stores;
using static Qdrant.Client.Grpc.Conditions;

namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// Translation between the store contract and Qdrant: Qdrant point ids must be unsigned integers or UUIDs,
/// so a string id becomes a name-based (version 5) UUID and the original id travels in the payload.
/// </summary>
public static class QdrantPointMapping
{
    /// <summary>Namespace of ReaSeq's point-id UUIDs; fixed forever, or existing collections lose their ids.</summary>
    public static readonly Guid PointIdNamespace = new("5d0f5b8e-3c1a-4f7e-9a51-2e6c0b7d4a10");

    public static Guid PointIdFor(string id) => NameBasedGuid(PointIdNamespace, id);

    /// <summary>RFC 4122 version-5 UUID: SHA-1 of namespace and UTF-8 name, with version and variant bits set.</summary>
    public static Guid NameBasedGuid(Guid namespaceId, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var input = new byte[16 + Encoding.UTF8.GetByteCount(name)];
        namespaceId.TryWriteBytes(input, bigEndian: true, out _);
        Encoding.UTF8.GetBytes(name, input.AsSpan(16));
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input, hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>Equality on every key → one keyword match per key, all required. Null for no filter.</summary>
    public static Filter? ToFilter(PayloadFilter? filter)
    {
        if (filter is null || filter.MustEqual.Count == 0)
        {
            return null;
        }

        var qdrantFilter = new Filter();
        foreach (var (key, value) in filter.MustEqual.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            qdrantFilter.Must.Add(MatchKeyword(key, value));
        }

        return qdrantFilter;
    }

    public static PointStruct ToPointStruct(VectorPoint point)
    {
        var pointStruct = new PointStruct
        {
            Id = PointIdFor(point.Id),
            Vectors = point.Vector,
        };
        foreach (var (key, value) in point.Payload)
        {
            pointStruct.Payload[key] = value;
        }

        pointStruct.Payload[VectorPoint.ReservedPayloadKey] = point.Id;
        return pointStruct;
    }

    /// <summary>Splits a Qdrant payload into the original id and the caller's payload.</summary>
    public static (string Id, IReadOnlyDictionary<string, string> Payload) FromPayload(IDictionary<string, Value> payload)
    {
        if (!payload.TryGetValue(VectorPoint.ReservedPayloadKey, out var idValue) || idValue.KindCase != Value.KindOneofCase.StringValue)
        {
            throw new InvalidOperationException(
                $"A Qdrant point has no '{VectorPoint.ReservedPayloadKey}' payload: the collection holds points not written by this store.");
        }

        var result = new Dictionary<string, string>(payload.Count - 1, StringComparer.Ordinal);
        foreach (var (key, value) in payload)
        {
            if (key != VectorPoint.ReservedPayloadKey)
            {
                result[key] = value.KindCase == Value.KindOneofCase.StringValue ? value.StringValue : value.ToString();
            }
        }

        return (idValue.StringValue, result.AsReadOnly());
    }
}
