using System.Xml.Linq;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Architecture;

/// <summary>
/// The architecture read from the project files: references flow one way (Contracts ← runtime ← roles ← Host), no
/// role project references another, and each role carries only its own dependencies.
/// </summary>
public sealed class ProjectGraphTests
{
    /// <summary>Projects that are roles (or role-like libraries a deployment scales on its own).</summary>
    private static readonly string[] RoleFolders =
    [
        "src/Ingestors/Ingest", "src/Ingestors/Replay",
        "src/Processors/Knowledge", "src/Processors/Sequence", "src/Processors/Dllm", "src/Processors/Trainer", "src/Api",
    ];

    /// <summary>Package name prefixes that bring generative or neural inference into a process.</summary>
    private static readonly string[] AiPackagePrefixes =
        ["Microsoft.ML", "Microsoft.Extensions.AI", "OpenAI", "LLamaSharp", "SentenceTransformers", "TorchSharp", "libtorch"];

    public static TheoryData<string> RoleProjects()
    {
        var data = new TheoryData<string>();
        foreach (var project in ProjectGraph.Load().Projects.Keys.Where(IsRole)) data.Add(project);
        return data;
    }

    [Theory]
    [MemberData(nameof(RoleProjects))]
    public void A_role_project_references_no_other_role_project(string project)
    {
        var graph = ProjectGraph.Load();
        var otherRoles = graph.TransitiveProjects(project).Where(p => p != project && IsRole(p)).ToList();
        Assert.True(otherRoles.Count == 0, $"{project} references role project(s) {string.Join(", ", otherRoles)}");
    }

    [Fact]
    public void The_sequence_role_carries_no_ai_package()
    {
        var graph = ProjectGraph.Load();
        var ai = graph.TransitivePackages("src/Processors/Sequence")
            .Where(p => AiPackagePrefixes.Any(prefix => p.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(ai.Count == 0, $"the sequence role pulls in {string.Join(", ", ai)}");
    }

    [Fact]
    public void The_streaming_runtime_depends_only_on_the_contracts_and_the_two_clients()
    {
        var graph = ProjectGraph.Load();
        Assert.Equal(["src/Contracts"], graph.Projects["src/Ingestors/Streaming"].ProjectReferences);
        var allowed = new[] { "Confluent.", "librdkafka", "Npgsql", "Apache.Avro", "Microsoft.Extensions." };
        var others = graph.TransitivePackages("src/Ingestors/Streaming").Where(p => !allowed.Any(a => p.StartsWith(a, StringComparison.Ordinal))).ToList();
        Assert.True(others.Count == 0, $"the runtime pulls in {string.Join(", ", others)}");
    }

    [Fact]
    public void References_flow_one_way_from_the_host_down_to_the_contracts()
    {
        var graph = ProjectGraph.Load();
        Assert.Empty(graph.Projects["src/Contracts"].ProjectReferences);
        foreach (var (name, project) in graph.Projects)
        {
            Assert.DoesNotContain("src/Host", project.ProjectReferences.Where(_ => name != "src/Tools"));
            Assert.DoesNotContain("src/Tools", project.ProjectReferences);
        }
        Assert.DoesNotContain("ScottPlot", graph.TransitivePackages("src/Host"));
    }

    private static bool IsRole(string project) => RoleFolders.Contains(project);

    /// <summary>The solution's projects, keyed by folder relative to the repository root.</summary>
    private sealed record ProjectGraph(IReadOnlyDictionary<string, ProjectNode> Projects)
    {
        public static ProjectGraph Load()
        {
            var projects = new Dictionary<string, ProjectNode>();
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.csproj", SearchOption.AllDirectories))
            {
                var dir = Path.GetDirectoryName(file)!;
                var xml = XDocument.Load(file);
                var refs = xml.Descendants("ProjectReference")
                    .Select(r => Relative(Path.GetDirectoryName(Path.GetFullPath(Path.Combine(dir, (string)r.Attribute("Include")!)))!))
                    .Order(StringComparer.Ordinal).ToList();
                var packages = xml.Descendants("PackageReference").Select(p => (string)p.Attribute("Include")!).ToList();
                projects[Relative(dir)] = new ProjectNode(refs, packages);
            }
            return new ProjectGraph(projects);
        }

        public IEnumerable<string> TransitiveProjects(string root)
        {
            var seen = new HashSet<string>();
            var stack = new Stack<string>([root]);
            while (stack.TryPop(out var p))
            {
                if (seen.Add(p))
                    foreach (var r in Projects[p].ProjectReferences) stack.Push(r);
            }

            return seen;
        }

        public IReadOnlyList<string> TransitivePackages(string root) =>
            TransitiveProjects(root).SelectMany(p => Projects[p].Packages).Distinct().ToList();

        private static string Relative(string dir) => Path.GetRelativePath(RepoPaths.Root, dir).Replace('\\', '/');
    }

    private sealed record ProjectNode(IReadOnlyList<string> ProjectReferences, IReadOnlyList<string> Packages);
}
