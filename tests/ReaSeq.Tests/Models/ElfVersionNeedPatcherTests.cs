using ReaSeq.Build;
using TorchSharp;

namespace ReaSeq.Tests.Models;

/// <summary>Runs the patcher on temporary copies of the real TorchSharp native library from the package cache.</summary>
public sealed class ElfVersionNeedPatcherTests : IDisposable
{
    private const string LibStdCxx = "libstdc++.so.6";
    private const string AnchorSymbol = "_ZSt21ios_base_library_initv";
    private const string NewestVersion = "GLIBCXX_3.4.32";
    private static readonly HashSet<string> Harmless = new(StringComparer.Ordinal) { AnchorSymbol };

    private readonly string _folder = Directory.CreateTempSubdirectory("elf-patch-").FullName;
    private readonly string _library;

    public ElfVersionNeedPatcherTests()
    {
        _library = Path.Combine(_folder, "libLibTorchSharp.so");
        File.Copy(PackageCacheCopy(), _library);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Package_cache_copy_is_left_untouched_by_the_build()
    {
        Assert.Contains(NewestVersion, ElfVersionNeedPatcher.ReadNeededVersionNames(PackageCacheCopy(), LibStdCxx));
    }

    [Fact]
    public void Elf_hash_matches_the_hashes_the_linker_wrote()
    {
        var entries = ElfVersionNeedPatcher.ReadNeededVersionEntries(_library, LibStdCxx);
        Assert.True(entries.Count > 5);
        Assert.All(entries, entry => Assert.Equal(entry.Hash, ElfVersionNeedPatcher.ElfHash(entry.Name)));
    }

    [Fact]
    public void Missing_version_is_retargeted_and_the_anchor_symbol_made_global()
    {
        var provided = AllNeededExcept(NewestVersion);

        var outcome = ElfVersionNeedPatcher.Patch(_library, LibStdCxx, provided, Harmless);

        Assert.True(outcome.Changed, outcome.Message);
        var after = ElfVersionNeedPatcher.ReadNeededVersionEntries(_library, LibStdCxx);
        Assert.All(after, entry => Assert.Contains(entry.Name, provided));
        Assert.All(after, entry => Assert.Equal(ElfVersionNeedPatcher.ElfHash(entry.Name), entry.Hash));
        // Version indices stay unique, so the rest of the version table keeps its meaning.
        Assert.Equal(after.Count, after.Select(e => e.VersionIndex).Distinct().Count());
        Assert.All(ElfVersionNeedPatcher.ReadSymbolVersionIndices(_library, AnchorSymbol), index => Assert.Equal(1, index));
        Assert.Equal(new FileInfo(PackageCacheCopy()).Length, new FileInfo(_library).Length);
    }

    [Fact]
    public void Patching_twice_changes_nothing_the_second_time()
    {
        var provided = AllNeededExcept(NewestVersion);
        Assert.True(ElfVersionNeedPatcher.Patch(_library, LibStdCxx, provided, Harmless).Changed);
        byte[] once = File.ReadAllBytes(_library);

        var second = ElfVersionNeedPatcher.Patch(_library, LibStdCxx, provided, Harmless);

        Assert.False(second.Changed);
        Assert.Equal(once, File.ReadAllBytes(_library));
    }

    [Fact]
    public void Nothing_changes_when_the_system_provides_every_version()
    {
        byte[] before = File.ReadAllBytes(_library);
        var provided = new HashSet<string>(ElfVersionNeedPatcher.ReadNeededVersionNames(_library, LibStdCxx));

        var outcome = ElfVersionNeedPatcher.Patch(_library, LibStdCxx, provided, Harmless);

        Assert.False(outcome.Changed);
        Assert.False(outcome.Refused);
        Assert.Equal(before, File.ReadAllBytes(_library));
    }

    [Fact]
    public void A_missing_version_that_real_functions_need_is_refused_and_the_file_kept()
    {
        byte[] before = File.ReadAllBytes(_library);
        // Without GLIBCXX_3.4.30 too, symbols that are really called would lose their version: unsafe.
        var provided = AllNeededExcept(NewestVersion, "GLIBCXX_3.4.30");

        var outcome = ElfVersionNeedPatcher.Patch(_library, LibStdCxx, provided, Harmless);

        Assert.True(outcome.Refused);
        Assert.False(outcome.Changed);
        Assert.Contains("GLIBCXX_3.4.30", outcome.Message);
        Assert.Equal(before, File.ReadAllBytes(_library));
    }

    [Fact]
    public void A_file_that_is_not_elf_is_rejected()
    {
        string text = Path.Combine(_folder, "not-a-library.so");
        File.WriteAllText(text, "definitely not an ELF image, just text long enough to have a header's worth of bytes");
        var error = Assert.Throws<InvalidDataException>(() =>
            ElfVersionNeedPatcher.Patch(text, LibStdCxx, new HashSet<string>(), Harmless));
        Assert.Contains("not an ELF", error.Message);
    }

    private HashSet<string> AllNeededExcept(params string[] missing) =>
        new(ElfVersionNeedPatcher.ReadNeededVersionNames(_library, LibStdCxx).Except(missing), StringComparer.Ordinal);

    private static string PackageCacheCopy()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var version = typeof(torch).Assembly.GetName().Version!;
        string path = Path.Combine(root, "torchsharp", $"{version.Major}.{version.Minor}.{version.Build}",
            "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(path), $"TorchSharp's native library should be in the package cache at {path}.");
        return path;
    }
}
