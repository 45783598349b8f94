using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Cafetalk.Integrations.Tests.Architecture;

/// <summary>One use of a type or member declared in another folder of the core.</summary>
internal sealed record FolderReference(string From, string To, string File, int Line, string Symbol)
{
    public override string ToString() => $"{File}:{Line} {From} -> {To} ({Symbol})";
}

/// <summary>
/// Every use, in the core's source, of a symbol declared in another folder, found by compiling the source with Roslyn
/// (so a fully qualified name, an extension method or a static using counts as much as a using directive).
/// </summary>
internal static class FolderReferences
{
    // The usings the Sdk adds for ImplicitUsings=enable (Directory.Build.props), which the compiled sources rely on.
    private const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    // Source-generated members ([GeneratedRegex], [LoggerMessage]) have no body here; every other error would blind the check.
    private static readonly HashSet<string> ErrorsOfGeneratedCode = ["CS8795"];

    private const string CoreNamespace = "Cafetalk.Integrations";

    public static string CoreDirectory { get; } = Path.Combine(Sandbox.RepositoryRoot.Find(), "src", "Cafetalk.Integrations");

    /// <summary>The core's sources as (path relative to the project, text).</summary>
    public static IReadOnlyList<(string Path, string Text)> CoreSources() =>
        Directory.EnumerateFiles(CoreDirectory, "*.cs", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(CoreDirectory, path).Replace('\\', '/'))
            .Where(path => !path.StartsWith("bin/", StringComparison.Ordinal) && !path.StartsWith("obj/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(path => (path, File.ReadAllText(Path.Combine(CoreDirectory, path))))
            .ToList();

    /// <summary>The folder a source path is in (its first segment), or <see cref="CoreLayers.Root"/>.</summary>
    public static string FolderOf(string path) => path.Contains('/', StringComparison.Ordinal) ? path[..path.IndexOf('/', StringComparison.Ordinal)] : CoreLayers.Root;

    public static IReadOnlyList<FolderReference> Find(IReadOnlyList<(string Path, string Text)> sources)
    {
        var options = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Preview);
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Text, options, s.Path))
            .Append(CSharpSyntaxTree.ParseText(ImplicitUsings, options, "GlobalUsings.g.cs"))
            .ToList();
        var compilation = CSharpCompilation.Create("CoreLayerCheck", trees, References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && !ErrorsOfGeneratedCode.Contains(d.Id))
            .ToList();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("The core does not compile for the layer check, so its references cannot be trusted:\n"
                + string.Join('\n', errors.Take(10)));
        }

        var references = new List<FolderReference>();
        foreach (var tree in trees.Where(t => t.FilePath != "GlobalUsings.g.cs"))
        {
            var model = compilation.GetSemanticModel(tree);
            var from = FolderOf(tree.FilePath);
            // A using directive of another folder counts even when nothing of it is used: it is a tie a reader sees.
            foreach (var directive in tree.GetRoot().DescendantNodes().OfType<UsingDirectiveSyntax>())
            {
                if (directive.NamespaceOrType?.ToString() is { } used && used.StartsWith(CoreNamespace + ".", StringComparison.Ordinal)
                    && used[(CoreNamespace.Length + 1)..].Split('.')[0] is var to && to != from)
                {
                    var line = directive.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    references.Add(new FolderReference(from, to, tree.FilePath, line, "using " + used));
                }
            }

            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>().Where(n => n.FirstAncestorOrSelf<UsingDirectiveSyntax>() is null))
            {
                if (DeclaringPath(model, name) is { } declaredIn && FolderOf(declaredIn) is var to && to != from)
                {
                    var line = name.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
                    references.Add(new FolderReference(from, to, tree.FilePath, line, name.Identifier.Text));
                }
            }
        }

        return references;
    }

    // Where the used symbol is declared in the core's sources; namespaces (a using directive on its own) use nothing.
    private static string? DeclaringPath(SemanticModel model, SimpleNameSyntax name)
    {
        var info = model.GetSymbolInfo(name);
        var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
        if (symbol is null or INamespaceSymbol)
        {
            return null;
        }

        symbol = symbol is IMethodSymbol { ReducedFrom: { } extension } ? extension : symbol.OriginalDefinition;
        return symbol.Locations.FirstOrDefault(l => l.IsInSource)?.SourceTree?.FilePath is { } path && path != "GlobalUsings.g.cs" ? path : null;
    }

    // The runtime and every library the test host loaded, except our own assemblies (their types come from the sources).
    private static IEnumerable<MetadataReference> References() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(path => !Path.GetFileName(path).StartsWith("Cafetalk", StringComparison.OrdinalIgnoreCase)
                && !Path.GetFileName(path).StartsWith("cafetalk", StringComparison.Ordinal))
            .Select(path => MetadataReference.CreateFromFile(path));
}
