using System.Text.RegularExpressions;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Architecture;

/// <summary>One type per file: a file holds at most one class, struct, interface or enum (small records may join their owner).</summary>
public sealed partial class SourceLayoutTests
{
    [Fact]
    public void No_source_file_declares_two_top_level_types_other_than_records()
    {
        var offenders = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (File: Path.GetRelativePath(RepoPaths.Root, f), Types: TopLevelType().Matches(File.ReadAllText(f)).Count))
            .Where(f => f.Types > 1)
            .Select(f => $"{f.File} ({f.Types})")
            .ToList();
        Assert.True(offenders.Count == 0, "split into one file per type: " + string.Join(", ", offenders));
    }

    // Top-level declarations start at column 0 under a file-scoped namespace (enforced by .editorconfig).
    [GeneratedRegex(@"^(public |internal |file )?(static |sealed |abstract |readonly |partial )*(class|struct|interface|enum) \w+", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();
}
