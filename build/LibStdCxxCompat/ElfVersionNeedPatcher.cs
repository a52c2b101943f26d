// Makes a prebuilt native library load against an older system libstdc++ when the only thing it needs from a
// newer GLIBCXX version is a symbol that is referenced but never called (TorchSharp's libLibTorchSharp.so asks for
// GLIBCXX_3.4.32 solely for _ZSt21ios_base_library_initv, a link-time anchor with no relocation against it).
//
// The patch edits only ELF version metadata, found through the section headers:
//   * the .gnu.version_r auxiliary entry naming the missing version is pointed at a version the same library
//     already requires and the system provides (vna_name and vna_hash), so the loader's version check passes;
//   * every .dynsym entry bound to the missing version gets .gnu.version index 1 (global, unversioned).
// Anything else bound to the missing version makes the patch refuse, because then a real call could fail at run time.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (build/LibStdCxxCompat.targets), which gets the
// task class below, and into the test project with ELF_PATCHER_LIBRARY defined, which omits the MSBuild-only class.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace ReaSeq.Build
{
    public sealed class ElfPatchOutcome
    {
        public ElfPatchOutcome(bool changed, bool refused, string message)
        {
            Changed = changed;
            Refused = refused;
            Message = message;
        }

        /// <summary>True when the file was rewritten.</summary>
        public bool Changed { get; }

        /// <summary>True when a missing version is needed by a symbol that is not known to be harmless.</summary>
        public bool Refused { get; }

        public string Message { get; }
    }

    public sealed class NeededVersionEntry
    {
        public NeededVersionEntry(string name, uint hash, ushort versionIndex)
        {
            Name = name;
            Hash = hash;
            VersionIndex = versionIndex;
        }

        public string Name { get; }
        public uint Hash { get; }
        public ushort VersionIndex { get; }
    }

    public static class ElfVersionNeedPatcher
    {
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;
        private const ushort VersymGlobal = 1;
        private const ushort VersymHiddenBit = 0x8000;

        /// <summary>Version names a shared library defines (its .gnu.version_d), e.g. GLIBCXX_3.4.30.</summary>
        public static HashSet<string> ReadDefinedVersions(string libraryPath)
        {
            var elf = new Elf64(File.ReadAllBytes(libraryPath), libraryPath);
            var verdef = elf.SingleSectionOfType(ShtGnuVerdef)
                ?? throw new InvalidDataException($"{libraryPath} has no .gnu.version_d section.");
            var strings = elf.Sections[(int)verdef.Link];
            var names = new HashSet<string>(StringComparer.Ordinal);
            long entry = verdef.Offset;
            for (uint i = 0; i < verdef.Info; i++)
            {
                // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32
                uint aux = elf.U32(entry + 12);
                uint next = elf.U32(entry + 16);
                // The first Elf64_Verdaux (vda_name u32, vda_next u32) names the version itself; later ones are parents.
                names.Add(elf.CString(strings.Offset + elf.U32(entry + aux)));
                if (next == 0) break;
                entry += next;
            }
            return names;
        }

        /// <summary>
        /// Retargets every version that <paramref name="neededFile"/> (e.g. libstdc++.so.6) must provide but
        /// <paramref name="providedVersions"/> lacks. Idempotent: a patched file has nothing left to retarget.
        /// The file is replaced through a temporary copy, so a hard link to a package cache is never written through.
        /// </summary>
        public static ElfPatchOutcome Patch(
            string libraryPath,
            string neededFile,
            ISet<string> providedVersions,
            ISet<string> harmlessSymbols)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            var elf = new Elf64(bytes, libraryPath);
            var verneed = elf.SingleSectionOfType(ShtGnuVerneed);
            if (verneed == null)
                return new ElfPatchOutcome(false, false, $"{libraryPath}: no version needs, nothing to do.");
            var dynsym = elf.SingleSectionOfType(ShtDynsym)
                ?? throw new InvalidDataException($"{libraryPath} has version needs but no .dynsym.");
            var versym = elf.SingleSectionOfType(ShtGnuVersym)
                ?? throw new InvalidDataException($"{libraryPath} has version needs but no .gnu.version.");
            var verneedStrings = elf.Sections[(int)verneed.Link];
            var symbolStrings = elf.Sections[(int)dynsym.Link];

            var auxEntries = ReadNeededVersions(elf, verneed, verneedStrings, neededFile);
            if (auxEntries.Count == 0)
                return new ElfPatchOutcome(false, false, $"{libraryPath}: does not need {neededFile}, nothing to do.");

            var missing = auxEntries.Where(a => !providedVersions.Contains(a.Name)).ToList();
            if (missing.Count == 0)
                return new ElfPatchOutcome(false, false, $"{libraryPath}: every {neededFile} version it needs is present.");

            var replacement = auxEntries
                .Where(a => providedVersions.Contains(a.Name))
                .OrderByDescending(a => a.Name, VersionNameComparer.Instance)
                .FirstOrDefault();
            if (replacement == null)
                return new ElfPatchOutcome(false, true,
                    $"{libraryPath}: none of the {neededFile} versions it needs is present on this system; cannot patch.");

            int symbolCount = (int)(dynsym.Size / 24);
            var retargetedSymbols = new List<(int Index, string Name)>();
            foreach (var aux in missing)
            {
                for (int symbol = 0; symbol < symbolCount; symbol++)
                {
                    ushort version = elf.U16(versym.Offset + symbol * 2L);
                    if ((version & ~VersymHiddenBit) != aux.VersionIndex) continue;
                    string name = elf.CString(symbolStrings.Offset + elf.U32(dynsym.Offset + symbol * 24L));
                    if (!harmlessSymbols.Contains(name))
                        return new ElfPatchOutcome(false, true,
                            $"{libraryPath}: symbol {name} needs {aux.Name}, which this system's {neededFile} lacks; " +
                            "it may be called, so the library was left unpatched. Install a newer libstdc++.");
                    retargetedSymbols.Add((symbol, name));
                }
            }

            foreach (var aux in missing)
            {
                // Elf64_Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
                // vna_other (the version index) is kept so no other table has to change.
                elf.WriteU32(aux.EntryOffset, ElfHash(replacement.Name));
                elf.WriteU32(aux.EntryOffset + 8, replacement.NameOffset);
            }
            foreach (var (index, _) in retargetedSymbols)
                elf.WriteU16(versym.Offset + index * 2L, VersymGlobal);

            ReplaceKeepingTimestamp(libraryPath, bytes);
            return new ElfPatchOutcome(true, false,
                $"{libraryPath}: retargeted {string.Join(", ", missing.Select(m => m.Name))} to {replacement.Name} " +
                $"for {string.Join(", ", retargetedSymbols.Select(s => s.Name))}.");
        }

        /// <summary>Versions the library requires from <paramref name="neededFile"/> (empty when it needs none).</summary>
        public static List<string> ReadNeededVersionNames(string libraryPath, string neededFile) =>
            ReadNeededVersionEntries(libraryPath, neededFile).Select(e => e.Name).ToList();

        /// <summary>The raw .gnu.version_r entries for <paramref name="neededFile"/>: name, vna_hash, version index.</summary>
        public static List<NeededVersionEntry> ReadNeededVersionEntries(string libraryPath, string neededFile)
        {
            var elf = new Elf64(File.ReadAllBytes(libraryPath), libraryPath);
            var verneed = elf.SingleSectionOfType(ShtGnuVerneed);
            if (verneed == null) return new List<NeededVersionEntry>();
            return ReadNeededVersions(elf, verneed, elf.Sections[(int)verneed.Link], neededFile)
                .Select(a => new NeededVersionEntry(a.Name, elf.U32(a.EntryOffset), a.VersionIndex)).ToList();
        }

        /// <summary>The .gnu.version index of every dynamic symbol with the given name (hidden bit included).</summary>
        public static List<ushort> ReadSymbolVersionIndices(string libraryPath, string symbolName)
        {
            var elf = new Elf64(File.ReadAllBytes(libraryPath), libraryPath);
            var dynsym = elf.SingleSectionOfType(ShtDynsym);
            var versym = elf.SingleSectionOfType(ShtGnuVersym);
            var result = new List<ushort>();
            if (dynsym == null || versym == null) return result;
            var strings = elf.Sections[(int)dynsym.Link];
            for (int symbol = 0; symbol < dynsym.Size / 24; symbol++)
            {
                if (elf.CString(strings.Offset + elf.U32(dynsym.Offset + symbol * 24L)) == symbolName)
                    result.Add(elf.U16(versym.Offset + symbol * 2L));
            }
            return result;
        }

        /// <summary>The SysV ELF hash that vna_hash must hold for the loader to match the version name.</summary>
        public static uint ElfHash(string name)
        {
            uint h = 0;
            foreach (byte c in Encoding.ASCII.GetBytes(name))
            {
                h = (h << 4) + c;
                uint g = h & 0xf0000000;
                if (g != 0) h ^= g >> 24;
                h &= ~g;
            }
            return h;
        }

        private static List<NeededVersion> ReadNeededVersions(
            Elf64 elf, Elf64.Section verneed, Elf64.Section strings, string neededFile)
        {
            var result = new List<NeededVersion>();
            long entry = verneed.Offset;
            for (uint i = 0; i < verneed.Info; i++)
            {
                // Elf64_Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
                ushort count = elf.U16(entry + 2);
                string file = elf.CString(strings.Offset + elf.U32(entry + 4));
                uint auxOffset = elf.U32(entry + 8);
                uint next = elf.U32(entry + 12);
                if (file == neededFile)
                {
                    long aux = entry + auxOffset;
                    for (int a = 0; a < count; a++)
                    {
                        uint nameOffset = elf.U32(aux + 8);
                        result.Add(new NeededVersion(
                            aux, elf.U16(aux + 6), nameOffset, elf.CString(strings.Offset + nameOffset)));
                        uint auxNext = elf.U32(aux + 12);
                        if (auxNext == 0) break;
                        aux += auxNext;
                    }
                }
                if (next == 0) break;
                entry += next;
            }
            return result;
        }

        private static void ReplaceKeepingTimestamp(string path, byte[] bytes)
        {
            // Keeping the copy's timestamp lets incremental builds see it as up to date and skip re-copying.
            DateTime lastWrite = File.GetLastWriteTimeUtc(path);
            string temporary = path + ".patching";
            File.WriteAllBytes(temporary, bytes);
            File.SetLastWriteTimeUtc(temporary, lastWrite);
            // Delete then move (never copy over): the new directory entry cannot share an inode with the cache.
            File.Delete(path);
            File.Move(temporary, path);
        }

        private sealed class NeededVersion
        {
            public NeededVersion(long entryOffset, ushort versionIndex, uint nameOffset, string name)
            {
                EntryOffset = entryOffset;
                VersionIndex = versionIndex;
                NameOffset = nameOffset;
                Name = name;
            }

            public long EntryOffset { get; }
            public ushort VersionIndex { get; }
            public uint NameOffset { get; }
            public string Name { get; }
        }

        /// <summary>Orders GLIBCXX_3.4.9 before GLIBCXX_3.4.29 by comparing the dotted numbers numerically.</summary>
        private sealed class VersionNameComparer : IComparer<string>
        {
            public static readonly VersionNameComparer Instance = new VersionNameComparer();

            public int Compare(string? x, string? y)
            {
                var left = Numbers(x ?? "");
                var right = Numbers(y ?? "");
                for (int i = 0; i < Math.Max(left.Length, right.Length); i++)
                {
                    int l = i < left.Length ? left[i] : -1;
                    int r = i < right.Length ? right[i] : -1;
                    if (l != r) return l.CompareTo(r);
                }
                return string.CompareOrdinal(x, y);
            }

            private static int[] Numbers(string name)
            {
                int underscore = name.LastIndexOf('_');
                return name.Substring(underscore + 1).Split('.')
                    .Select(part => int.TryParse(part, out int n) ? n : -1).ToArray();
            }
        }
    }

    /// <summary>Just enough of a little-endian ELF64 reader to walk section headers.</summary>
    internal sealed class Elf64
    {
        private readonly byte[] _bytes;

        public Elf64(byte[] bytes, string path)
        {
            _bytes = bytes;
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException($"{path} is not an ELF file.");
            if (bytes[4] != 2 || bytes[5] != 1)
                throw new InvalidDataException($"{path} is not a little-endian ELF64 file.");
            long sectionTable = (long)U64(0x28);
            ushort entrySize = U16(0x3a);
            ushort count = U16(0x3c);
            if (entrySize != 64 || sectionTable <= 0 || sectionTable + (long)count * entrySize > bytes.Length)
                throw new InvalidDataException($"{path} has no readable section header table.");
            Sections = new List<Section>(count);
            for (int i = 0; i < count; i++)
            {
                long header = sectionTable + (long)i * entrySize;
                var section = new Section(
                    type: U32(header + 4),
                    offset: (long)U64(header + 0x18),
                    size: (long)U64(header + 0x20),
                    link: U32(header + 0x28),
                    info: U32(header + 0x2c));
                if (section.Type != 8 /* SHT_NOBITS */ && section.Offset + section.Size > bytes.Length)
                    throw new InvalidDataException($"{path}: section {i} lies outside the file.");
                Sections.Add(section);
            }
        }

        public List<Section> Sections { get; }

        public Section? SingleSectionOfType(uint type)
        {
            var matches = Sections.Where(s => s.Type == type).ToList();
            return matches.Count switch
            {
                0 => null,
                1 => matches[0],
                _ => throw new InvalidDataException($"More than one section of type 0x{type:x}."),
            };
        }

        public ushort U16(long at) => BitConverter.ToUInt16(_bytes, checked((int)at));
        public uint U32(long at) => BitConverter.ToUInt32(_bytes, checked((int)at));
        public ulong U64(long at) => BitConverter.ToUInt64(_bytes, checked((int)at));
        public void WriteU16(long at, ushort value) => Array.Copy(BitConverter.GetBytes(value), 0, _bytes, checked((int)at), 2);
        public void WriteU32(long at, uint value) => Array.Copy(BitConverter.GetBytes(value), 0, _bytes, checked((int)at), 4);

        public string CString(long at)
        {
            int start = checked((int)at);
            int end = Array.IndexOf(_bytes, (byte)0, start);
            if (end < 0) throw new InvalidDataException("Unterminated string in ELF string table.");
            return Encoding.ASCII.GetString(_bytes, start, end - start);
        }

        public sealed class Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type;
                Offset = offset;
                Size = size;
                Link = link;
                Info = info;
            }

            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }
    }

#if !ELF_PATCHER_LIBRARY
    /// <summary>MSBuild entry point: patches the given output copies against the given system libstdc++.</summary>
    public sealed class PatchLibStdCxxVersionNeeds : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        [Microsoft.Build.Framework.Required]
        public string SystemLibStdCxx { get; set; } = "";

        /// <summary>Semicolon-separated symbols known to be referenced but never called.</summary>
        [Microsoft.Build.Framework.Required]
        public string HarmlessSymbols { get; set; } = "";

        /// <summary>Folder that must never be written (the NuGet package cache).</summary>
        public string ProtectedRoot { get; set; } = "";

        public override bool Execute()
        {
            var provided = ElfVersionNeedPatcher.ReadDefinedVersions(SystemLibStdCxx);
            var harmless = new HashSet<string>(
                HarmlessSymbols.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()),
                StringComparer.Ordinal);
            foreach (var item in Libraries)
            {
                string path = Path.GetFullPath(item.ItemSpec);
                if (ProtectedRoot.Length > 0 && path.StartsWith(Path.GetFullPath(ProtectedRoot), StringComparison.Ordinal))
                {
                    Log.LogError($"Refusing to patch {path}: it lies in the package cache.");
                    continue;
                }
                var outcome = ElfVersionNeedPatcher.Patch(path, "libstdc++.so.6", provided, harmless);
                if (outcome.Refused) Log.LogWarning(outcome.Message);
                else Log.LogMessage(
                    outcome.Changed ? Microsoft.Build.Framework.MessageImportance.High : Microsoft.Build.Framework.MessageImportance.Low,
                    outcome.Message);
            }
            return !Log.HasLoggedErrors;
        }
    }
#endif
}
