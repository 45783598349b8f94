using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Tests.Infra;

/// <summary>
/// A compiled ARM template with its module deployments walked, and the few expression forms the tests need
/// resolved: a whole-value <c>parameters('x')</c> (followed into the parent module) and <c>variables('x')</c>.
/// </summary>
internal sealed partial class ArmTemplate
{
    private ArmTemplate(JsonObject json, ArmResource? deployment)
    {
        Json = json;
        Deployment = deployment;
    }

    public JsonObject Json { get; }

    /// <summary>The module deployment whose template this is; null for main.bicep.</summary>
    public ArmResource? Deployment { get; }

    public static ArmTemplate Parse(string json) =>
        new(JsonNode.Parse(json)?.AsObject() ?? throw new InvalidOperationException("The template is not a JSON object."), null);

    /// <summary>Every resource the template deploys, modules included; <c>existing</c> references are left out.</summary>
    public IEnumerable<ArmResource> Resources()
    {
        foreach (var json in OwnResources())
        {
            if (json["existing"]?.GetValue<bool>() == true)
            {
                continue;
            }

            var resource = new ArmResource(json, this);
            yield return resource;
            if (resource.Type == "Microsoft.Resources/deployments")
            {
                var nested = new ArmTemplate(json["properties"]!["template"]!.AsObject(), resource);
                foreach (var inner in nested.Resources())
                {
                    yield return inner;
                }
            }
        }
    }

    // languageVersion 2.0 templates hold resources in an object keyed by symbolic name.
    private IEnumerable<JsonObject> OwnResources() => Json["resources"] switch
    {
        JsonArray array => array.Select(r => r!.AsObject()),
        JsonObject map => map.Select(kv => kv.Value!.AsObject()),
        _ => [],
    };

    public IReadOnlyList<ArmResource> OfType(string type) => Resources().Where(r => r.Type == type).ToList();

    public ArmResource Single(string type)
    {
        var matches = OfType(type);
        Assert.True(matches.Count == 1, $"Expected exactly one {type}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The value with whole-value parameter and variable references resolved; expressions otherwise as written.</summary>
    public JsonNode? Resolve(JsonNode? node) => ResolveWithScope(node).Node;

    /// <summary>A string value as text, with <c>variables('x')</c> written out inside expressions.</summary>
    public string? Text(JsonNode? node) => TextOf(ResolveWithScope(node));

    internal static string? TextOf((JsonNode? Node, ArmTemplate Scope) resolvedNode)
    {
        var (resolved, scope) = resolvedNode;
        if (resolved is not JsonValue value || !value.TryGetValue<string>(out var text))
        {
            return resolved?.ToJsonString();
        }

        return IsExpression(text) ? $"[{scope.InlineVariables(text[1..^1])}]" : text;
    }

    /// <summary>The node at a dotted path below <paramref name="root"/>, each step resolved, with the template it belongs to.</summary>
    internal (JsonNode? Node, ArmTemplate Scope) At(JsonNode root, string path)
    {
        (JsonNode? Node, ArmTemplate Scope) current = (root, this);
        foreach (var key in path.Split('.'))
        {
            current = current.Node is JsonObject o ? current.Scope.ResolveWithScope(o[key]) : (null, current.Scope);
        }

        return current;
    }

    /// <summary>The resolved value and the template its expressions belong to (a parameter's value lives in the caller).</summary>
    private (JsonNode? Node, ArmTemplate Scope) ResolveWithScope(JsonNode? node)
    {
        if (node is not JsonValue value || !value.TryGetValue<string>(out var text) || !IsExpression(text))
        {
            return (node, this);
        }

        var expression = text[1..^1];
        var parameter = WholeParameter().Match(expression);
        if (parameter.Success)
        {
            var name = parameter.Groups["name"].Value;
            if (Deployment?.Json["properties"]?["parameters"]?[name] is { } passed)
            {
                // Module parameters are evaluated in the calling template (expressionEvaluationOptions: inner).
                return Deployment.Template.ResolveWithScope(passed["value"]);
            }

            var declared = Json["parameters"]?[name] ?? throw new InvalidOperationException($"No parameter '{name}'.");
            return declared["defaultValue"] is { } defaultValue ? ResolveWithScope(defaultValue) : (node, this);
        }

        var variable = WholeVariable().Match(expression);
        if (variable.Success)
        {
            return ResolveWithScope(Json["variables"]?[variable.Groups["name"].Value]);
        }

        // An imported Bicep function (func): its body, whose parameters the tests read by name as written.
        var function = FunctionCall().Match(expression);
        if (function.Success && Json["functions"] is JsonArray namespaces
            && namespaces.Select(n => n?["members"]?[function.Groups["name"].Value]).OfType<JsonObject>().FirstOrDefault() is { } member)
        {
            return ResolveWithScope(member["output"]?["value"]);
        }

        // A module's output: read it inside the module's template.
        var output = ModuleOutput().Match(expression);
        if (output.Success && Module(output.Groups["module"].Value) is { } module)
        {
            return module.ResolveWithScope(module.Json["outputs"]?[output.Groups["output"].Value]?["value"]);
        }

        return (node, this);
    }

    private ArmTemplate? Module(string deploymentName)
    {
        var deployment = OwnResources().FirstOrDefault(r => r["type"]?.GetValue<string>() == "Microsoft.Resources/deployments" && r["name"]?.GetValue<string>() == deploymentName);
        return deployment is null ? null : new ArmTemplate(deployment["properties"]!["template"]!.AsObject(), new ArmResource(deployment, this));
    }

    private string InlineVariables(string expression) => VariableReference().Replace(expression, match =>
    {
        var variable = Json["variables"]?[match.Groups["name"].Value];
        if (variable is not JsonValue value || !value.TryGetValue<string>(out var text))
        {
            return match.Value;
        }

        return IsExpression(text) ? InlineVariables(text[1..^1]) : $"'{text.Replace("'", "''", StringComparison.Ordinal)}'";
    });

    private static bool IsExpression(string text) => text.StartsWith('[') && text.EndsWith(']') && !text.StartsWith("[[", StringComparison.Ordinal);

    [GeneratedRegex(@"^parameters\('(?<name>[^']+)'\)$")]
    private static partial Regex WholeParameter();

    [GeneratedRegex(@"^__bicep\.(?<name>\w+)\(.*\)$")]
    private static partial Regex FunctionCall();

    [GeneratedRegex(@"^variables\('(?<name>[^']+)'\)$")]
    private static partial Regex WholeVariable();

    [GeneratedRegex(@"^reference\(.*'Microsoft\.Resources/deployments', '(?<module>[^']+)'\), '[^']+'\)\.outputs\.(?<output>\w+)\.value$")]
    private static partial Regex ModuleOutput();

    [GeneratedRegex(@"variables\('(?<name>[^']+)'\)")]
    internal static partial Regex VariableReference();
}

/// <summary>One resource of a compiled template, read through its template's resolver.</summary>
internal sealed class ArmResource(JsonObject json, ArmTemplate template)
{
    public JsonObject Json { get; } = json;

    public ArmTemplate Template { get; } = template;

    public string Type { get; } = json["type"]!.GetValue<string>();

    /// <summary>The node at a dotted path ("properties.siteConfig.minTlsVersion"), resolved; null when absent.</summary>
    public JsonNode? At(string path) => Template.At(Json, path).Node;

    /// <summary>A string at a dotted path, with variables written out in the template they belong to.</summary>
    public string? Text(string path) => ArmTemplate.TextOf(Template.At(Json, path));

    public T Value<T>(string path)
    {
        var node = At(path) ?? throw new Xunit.Sdk.XunitException($"{Type} has no '{path}'.");
        return node.GetValue<T>();
    }
}
