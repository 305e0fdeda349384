using System.Text.RegularExpressions;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests;

/// <summary>The library's layers, bottom to top, and the rule that a lower layer never names a type of a higher one.</summary>
/// <remarks>
/// <para>This is the one place the order lives; README's Architecture table mirrors it (checked below). A layer is a
/// folder under <c>src/Flight.Hal.Resources/</c>; files at the root (the shared vocabulary: ResourceType,
/// ResourceStatus, ...) and in <c>Native/</c> and <c>Internal/</c> form the floor every layer may use.</para>
/// <para>The check reads the sources, with no compiler: it collects the top-level types each file declares, strips
/// comments and string literals from every file (keeping the targets of <c>cref</c> attributes, which are references
/// too), and reports each identifier that names a top-level type of a higher layer.</para>
/// </remarks>
public partial class LayeringTests
{
    /// <summary>Bottom to top. Index 0 is the floor.</summary>
    public static readonly string[][] Layers =
    [
        ["(root)", "Native", "Internal"],
        ["Handles"],
        ["Memory"],
        ["Budgets"],
        ["Platform"],
        ["Management"],
        ["Scoping"],
        ["Caching"],
        ["Diagnostics"],
    ];

    private static string SourceRoot => Path.Combine(Repository.Root, "src", "Flight.Hal.Resources");

    [Fact]
    public void NoLowerLayer_NamesATypeOfAHigherLayer()
    {
        // Arrange
        var files = Sources().ToList();
        var declaredIn = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach ((string path, int layer, string text) in files)
        {
            foreach (Match match in TopLevelType().Matches(text))
            {
                declaredIn[match.Groups["name"].Value] = layer;
            }
        }

        // Act
        var violations = new List<string>();
        foreach ((string path, int layer, string text) in files)
        {
            foreach (string name in ReferencedNames(text).Distinct())
            {
                if (declaredIn.TryGetValue(name, out int higher) && higher > layer)
                {
                    violations.Add($"{Path.GetRelativePath(SourceRoot, path)} ({LayerName(layer)}) names {name} ({LayerName(higher)})");
                }
            }
        }

        // Assert
        Assert.True(declaredIn.Count > 50, $"only {declaredIn.Count} types found: the scan is broken");
        Assert.True(violations.Count == 0, "Layering violations:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void EveryFolderOfTheLibrary_IsALayer()
    {
        string[] folders = Directory.GetDirectories(SourceRoot)
            .Select(Path.GetFileName)
            .Where(name => name is not ("bin" or "obj"))
            .ToArray()!;

        Assert.All(folders, folder => Assert.Contains(Layers, layer => layer.Contains(folder)));
    }

    [Fact]
    public void TheReadmesArchitectureTable_ListsTheLayersInThisOrder()
    {
        // README: a table whose first column is the folder (`Handles/`, ...), top layer first.
        string readme = Repository.ReadAllText("README.md");
        string section = readme[readme.IndexOf("## Architecture", StringComparison.Ordinal)..];
        string[] listed = ReadmeLayerRow().Matches(section).Select(m => m.Groups["folder"].Value).ToArray();

        string[] expected = Layers.Skip(1).Reverse().Select(layer => layer[0]).ToArray();
        Assert.Equal(expected, listed.Where(folder => expected.Contains(folder)).ToArray());
    }

    [Fact]
    public void TheScan_CatchesAReferenceUpwards()
    {
        // The check cannot pass vacuously: a floor file naming the manager (in code or in a cref) is caught; names in
        // comments and strings are not references.
        const string Source = """
            namespace Flight.Hal.Resources;
            /// <summary>Used by <see cref="ResourceManager"/>.</summary>
            internal static class Probe
            {
                // ResourceScope is mentioned only in this comment.
                public static string Text => "PlatformProfile";
                public static object Make() => new ResourceCache();
            }
            """;

        string[] names = ReferencedNames(Source).ToArray();

        Assert.Contains("ResourceManager", names);
        Assert.Contains("ResourceCache", names);
        Assert.DoesNotContain("ResourceScope", names);
        Assert.DoesNotContain("PlatformProfile", names);
    }

    private static IEnumerable<(string Path, int Layer, string Text)> Sources()
    {
        foreach (string path in Directory.EnumerateFiles(SourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(SourceRoot, path);
            string folder = relative.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal)
                ? relative[..relative.IndexOf(Path.DirectorySeparatorChar, StringComparison.Ordinal)]
                : "(root)";
            if (folder is "bin" or "obj")
            {
                continue;
            }

            int layer = Array.FindIndex(Layers, names => names.Contains(folder));
            Assert.True(layer >= 0, $"{relative}: folder {folder} is in no layer");
            yield return (path, layer, File.ReadAllText(path));
        }
    }

    /// <summary>Identifiers that may name a type: in code (comments and strings removed) and in cref attributes.</summary>
    private static IEnumerable<string> ReferencedNames(string text)
    {
        foreach (Match cref in Cref().Matches(text))
        {
            foreach (Match identifier in Identifier().Matches(cref.Groups["target"].Value))
            {
                yield return identifier.Value;
            }
        }

        string code = CommentOrString().Replace(text, " ");
        foreach (Match identifier in Identifier().Matches(code))
        {
            yield return identifier.Value;
        }
    }

    private static string LayerName(int layer) => string.Join("/", Layers[layer]);

    /// <summary>A declaration at the start of a line (top level under a file-scoped namespace; nested types are indented).</summary>
    [GeneratedRegex(@"^(?:(?:public|internal|static|sealed|abstract|readonly|unsafe|partial|ref|file)\s+)*(?:class|struct|interface|enum|record(?:\s+struct|\s+class)?)\s+(?<name>[A-Za-z_]\w*)|^(?:(?:public|internal)\s+)*delegate\s+[^;(]*?\s(?<name>[A-Za-z_]\w*)\s*(?:<[^>]*>)?\s*\(", RegexOptions.Multiline)]
    private static partial Regex TopLevelType();

    [GeneratedRegex(@"cref=""(?<target>[^""]*)""")]
    private static partial Regex Cref();

    /// <summary>Comments (line and block) and string literals (regular, verbatim, interpolated, raw; their text only).</summary>
    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|""""""[\s\S]*?""""""|@""(?:[^""]|"""")*""|\$?""(?:[^""\\\n]|\\.)*""|'(?:[^'\\\n]|\\.)'", RegexOptions.Singleline)]
    private static partial Regex CommentOrString();

    [GeneratedRegex(@"\b[A-Z][A-Za-z0-9_]*\b")]
    private static partial Regex Identifier();

    /// <summary>A README table row whose first cell is a folder in backticks: | `Handles/` | ...</summary>
    [GeneratedRegex(@"^\|\s*`(?<folder>[A-Za-z]+)/`\s*\|", RegexOptions.Multiline)]
    private static partial Regex ReadmeLayerRow();
}
