using System.Security.Cryptography;
using System.Text;

namespace ReaSeq.Tools.Eval;

/// <summary>
/// Computed vectors on disk, keyed by a hash of everything that determines them (method, model, item texts), so a
/// re-run with the same inputs skips the encoding. A corrupt or foreign file is ignored and recomputed.
/// </summary>
public sealed class VectorCache(string directory)
{
    private const int FormatVersion = 1;

    public string Directory { get; } = directory;

    public static string Key(params IEnumerable<string>[] parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts)
        {
            foreach (var value in part)
            {
                // Length-prefixed so that ("ab","c") and ("a","bc") hash differently.
                hash.AppendData(Encoding.UTF8.GetBytes($"{value.Length}:{value}|"));
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..24];
    }

    public string PathFor(string method, string key) => Path.Combine(Directory, $"{method}-{key}.bin");

    public IReadOnlyList<float[]?>? TryLoad(string method, string key, int expectedCount)
    {
        var path = PathFor(method, key);
        if (!File.Exists(path)) return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadInt32() != FormatVersion || reader.ReadInt32() != expectedCount) return null;
            var vectors = new float[]?[expectedCount];
            for (int i = 0; i < expectedCount; i++)
            {
                int length = reader.ReadInt32();
                if (length < 0) continue;
                var v = new float[length];
                for (int j = 0; j < length; j++) v[j] = reader.ReadSingle();
                vectors[i] = v;
            }
            return vectors;
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            return null;
        }
    }

    public void Save(string method, string key, IReadOnlyList<float[]?> vectors)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathFor(method, key);
        var temporary = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temporary)))
        {
            writer.Write(FormatVersion);
            writer.Write(vectors.Count);
            foreach (var v in vectors)
            {
                writer.Write(v?.Length ?? -1);
                if (v is not null) foreach (var x in v) writer.Write(x);
            }
        }
        // Rename last, so an interrupted run never leaves a truncated file under the real name.
        File.Move(temporary, path, overwrite: true);
    }
}
