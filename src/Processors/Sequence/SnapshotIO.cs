using System.Text;

namespace ReaSeq.Processors.Sequence;

/// <summary>Little helpers for the versioned binary snapshots of the sequence processor.</summary>
internal static class SnapshotIO
{
    public static BinaryWriter Writer(Stream stream) => new(stream, Encoding.UTF8, leaveOpen: true);

    public static BinaryReader Reader(Stream stream) => new(stream, Encoding.UTF8, leaveOpen: true);

    public static void WriteHeader(BinaryWriter writer, string magic, int version)
    {
        writer.Write(Encoding.ASCII.GetBytes(magic));
        writer.Write(version);
    }

    public static void ReadHeader(BinaryReader reader, string magic, int version, string what)
    {
        var found = reader.ReadBytes(magic.Length);
        if (found.Length != magic.Length || Encoding.ASCII.GetString(found) != magic)
            throw new InvalidDataException($"Not a {what} snapshot (expected magic '{magic}').");
        var foundVersion = reader.ReadInt32();
        if (foundVersion != version)
            throw new InvalidDataException($"{what} snapshot has format version {foundVersion}; this build reads version {version}.");
    }

    public static void WriteNullable(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null) writer.Write(value);
    }

    public static string? ReadNullable(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    /// <summary>Refuses a snapshot taken under other settings: replaying it would not reproduce the same decisions.</summary>
    public static void ExpectSetting<T>(string what, string setting, T stored, T configured)
    {
        if (!EqualityComparer<T>.Default.Equals(stored, configured))
            throw new InvalidDataException($"{what} snapshot was written with {setting}={stored}, but this instance is configured with {setting}={configured}.");
    }
}
