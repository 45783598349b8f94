using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>
/// A provider's published contract as we wrote it down (<c>Contracts/&lt;provider&gt;.contract.json</c>, format in
/// docs/contracts.md): its operations, their query parameters, body fields, enums, auth schemes and scopes, each
/// with its source. <see cref="Validate"/> lists every way a request breaks it, naming operation and field and never
/// a value. The file itself is checked on load: an unknown key, a missing source or a bad type refuses it.
/// </summary>
public sealed partial class ProviderContract
{
    private const string ResourcePrefix = "contracts/";
    private const string ResourceSuffix = ".contract.json";

    private static readonly ConcurrentDictionary<string, Lazy<ProviderContract?>> Embedded = new(StringComparer.Ordinal);

    /// <summary>Query parameter names that carry a credential: refused wherever the contract forbids tokens in the query.</summary>
    private static readonly HashSet<string> CredentialNames = new(StringComparer.OrdinalIgnoreCase)
    {
        "access_token", "token", "download_token", "download_access_token", "api_key", "apikey", "key", "oauth_token", "bearer",
    };

    private static readonly string[] QueryTypes = ["string", "integer", "number", "boolean"];
    private static readonly string[] BodyTypes = ["string", "integer", "number", "boolean", "object", "array"];
    private static readonly string[] Formats = ["date-time", "email"];

    private readonly List<Operation> _operations;
    private readonly HashSet<string> _literalSegments;

    private ProviderContract(string provider, IReadOnlyDictionary<string, ContractSource> sources, IReadOnlyList<string> defaultSchemes, bool tokenInQueryForbidden, List<Operation> operations, IReadOnlyList<string> factIds, CredentialRefusal? credentialRefusal = null, CredentialRefusal? scopeRefusal = null)
    {
        Provider = provider;
        Sources = sources;
        DefaultSchemes = defaultSchemes;
        TokenInQueryForbidden = tokenInQueryForbidden;
        Refusal = credentialRefusal;
        ScopeRefusal = scopeRefusal;
        _operations = operations;
        FactIds = factIds;
        _literalSegments = operations.SelectMany(o => o.Segments).Where(s => !s.StartsWith('{')).ToHashSet(StringComparer.Ordinal);
    }

    public string Provider { get; }

    public IReadOnlyDictionary<string, ContractSource> Sources { get; }

    /// <summary>The auth schemes an operation accepts unless it names its own.</summary>
    public IReadOnlyList<string> DefaultSchemes { get; }

    public bool TokenInQueryForbidden { get; }

    /// <summary>The provider's own documented answer to a request whose only fault is its credential (wrong scheme, token in the query); null: the hook's 400.</summary>
    public CredentialRefusal? Refusal { get; }

    /// <summary>The provider's own documented answer to a token that lacks the operation's scopes (Vimeo: 403 with its error body); null: the hook's 400.</summary>
    public CredentialRefusal? ScopeRefusal { get; }

    /// <summary>Whether <paramref name="violation"/> is a token lacking the operation's scopes, which the provider answers with <see cref="ScopeRefusal"/>.</summary>
    public static bool IsScopeProblem(ContractViolation violation) =>
        violation.Problem.StartsWith(ScopeProblem, StringComparison.Ordinal);

    private const string ScopeProblem = "token lacks scope ";

    /// <summary>Whether <paramref name="violation"/> is about the credential alone, which the provider answers with <see cref="Refusal"/>.</summary>
    public static bool IsCredentialProblem(ContractViolation violation) =>
        violation.Problem.StartsWith(AuthSchemeProblem, StringComparison.Ordinal) || violation.Problem.StartsWith(CredentialInQueryProblem, StringComparison.Ordinal);

    private const string AuthSchemeProblem = "auth scheme ";
    private const string CredentialInQueryProblem = "credential in query parameter ";

    /// <summary>The operation ids, in file order.</summary>
    public IReadOnlyList<string> OperationIds => [.. _operations.Select(o => o.Id)];

    public IReadOnlyList<string> FactIds { get; }

    /// <summary>The providers whose contract file ships in this assembly (embedded from <c>Contracts/*.contract.json</c>).</summary>
    public static IReadOnlyList<string> Available() =>
    [
        .. typeof(ProviderContract).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^ResourceSuffix.Length])
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>The shipped contract of <paramref name="provider"/>, or null when it has none yet. Throws <see cref="ContractFileException"/> for a bad file.</summary>
    public static ProviderContract? For(string provider) =>
        Embedded.GetOrAdd(provider, p => new Lazy<ProviderContract?>(() => LoadEmbedded(p))).Value;

    /// <summary>Reads and checks a contract file's text; <paramref name="origin"/> names it in errors.</summary>
    public static ProviderContract Parse(string json, string origin)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new ContractFileException($"{origin}: not valid JSON ({e.Message}).");
        }

        using (document)
        {
            return new ContractReader(origin).Read(document.RootElement);
        }
    }

    /// <summary>Every way <paramref name="request"/> breaks this contract; empty when it keeps it.</summary>
    public IReadOnlyList<ContractViolation> Validate(ContractRequest request)
    {
        var segments = request.Path.Split('/');
        var operation = _operations
            .Where(o => string.Equals(o.Method, request.Method, StringComparison.OrdinalIgnoreCase) && o.Matches(segments))
            .OrderByDescending(o => o.Segments.Count(s => !s.StartsWith('{')))
            .FirstOrDefault();
        if (operation is null)
        {
            return [new ContractViolation(Provider, $"{request.Method.ToUpperInvariant()} {Shape(segments)}", "unknown operation: the contract declares no such method and path")];
        }

        var problems = new List<string>();
        CheckAuth(operation, request, problems);
        CheckQuery(operation, request.Query, problems);
        CheckBody(operation, request, problems);
        return [.. problems.Distinct(StringComparer.Ordinal).Select(p => new ContractViolation(Provider, operation.Id, p))];
    }

    private void CheckAuth(Operation operation, ContractRequest request, List<string> problems)
    {
        var schemes = operation.Schemes ?? DefaultSchemes;
        if (!schemes.Contains(request.AuthScheme, StringComparer.OrdinalIgnoreCase))
        {
            problems.Add($"{AuthSchemeProblem}'{Printable(request.AuthScheme)}' is not one of [{string.Join(", ", schemes)}]");
        }

        if (request.TokenScopes is { } granted && operation.Scopes.Length > 0)
        {
            var missing = operation.Scopes.Where(s => !granted.Contains(s, StringComparer.Ordinal)).ToList();
            if (operation.AnyScope ? missing.Count == operation.Scopes.Length : missing.Count > 0)
            {
                problems.Add($"{ScopeProblem}{(operation.AnyScope ? "any of " : string.Empty)}[{string.Join(", ", missing)}]");
            }
        }

        foreach (var header in operation.RequiredHeaders.Where(h => !request.HeaderNames.Contains(h, StringComparer.OrdinalIgnoreCase)))
        {
            problems.Add($"missing required header '{header}'");
        }
    }

    private void CheckQuery(Operation operation, string query, List<string> problems)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in FormFields(query.TrimStart('?')))
        {
            seen.Add(name);
            if (TokenInQueryForbidden && !operation.TokenInQueryAllowed && CredentialNames.Contains(name))
            {
                problems.Add($"{CredentialInQueryProblem}'{Printable(name)}': tokens go in the Authorization header only");
                continue;
            }

            if (!operation.Query.TryGetValue(name, out var field))
            {
                problems.Add($"undeclared query parameter '{Printable(name)}'");
                continue;
            }

            CheckText(field, $"query parameter '{name}'", value, problems);
        }

        foreach (var name in operation.RequiredQuery.Where(n => !seen.Contains(n)))
        {
            problems.Add($"missing required query parameter '{name}'");
        }
    }

    private static void CheckBody(Operation operation, ContractRequest request, List<string> problems)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim();
        if (request.Body.Length == 0 && string.IsNullOrEmpty(mediaType))
        {
            problems.AddRange(operation.RequiredBody.Select(f => $"missing required body field '{f}'"));
            return;
        }

        if (operation.ContentType is null)
        {
            if (request.Body.Length > 0)
            {
                problems.Add("a body was sent but the operation takes none");
            }

            return;
        }

        if (!string.Equals(mediaType, operation.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"content type '{Printable(mediaType ?? "none")}' is not '{operation.ContentType}'");
            return;
        }

        if (operation.ContentType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
        {
            CheckJsonBody(operation, request.Body, problems);
        }
        else if (operation.ContentType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, value) in FormFields(request.Body))
            {
                seen.Add(name);
                if (!operation.Body.TryGetValue(name, out var field))
                {
                    problems.Add($"undeclared body field '{Printable(name)}'");
                    continue;
                }

                CheckText(field, $"body field '{name}'", value, problems);
            }

            problems.AddRange(operation.RequiredBody.Where(f => !seen.Contains(f)).Select(f => $"missing required body field '{f}'"));
        }
    }

    private static void CheckJsonBody(Operation operation, string body, List<string> problems)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Length == 0 ? "null" : body);
        }
        catch (JsonException)
        {
            problems.Add("body is not valid JSON");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                WalkObject(operation, root, string.Empty, problems);
            }
            else if (root.ValueKind == JsonValueKind.Array && operation.HasDescendants(string.Empty))
            {
                WalkValue(operation, root, string.Empty, null, problems);
            }
            else
            {
                problems.Add("body is not a JSON object");
                return;
            }

            foreach (var required in operation.RequiredBody.Where(r => !Present(root, r)))
            {
                problems.Add($"missing required body field '{required}'");
            }
        }
    }

    private static void WalkObject(Operation operation, JsonElement obj, string path, List<string> problems)
    {
        foreach (var property in obj.EnumerateObject())
        {
            var child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
            operation.Body.TryGetValue(child, out var field);
            if (field is null && !operation.HasDescendants(child))
            {
                var name = NameShape().IsMatch(property.Name) ? property.Name : "*";
                problems.Add($"undeclared body field '{(path.Length == 0 ? name : $"{PrintablePath(path)}.{name}")}'");
                continue;
            }

            WalkValue(operation, property.Value, child, field, problems);
        }
    }

    private static void WalkValue(Operation operation, JsonElement value, string path, FieldRule? field, List<string> problems)
    {
        var where = $"body field '{PrintablePath(path)}'";
        if (field is not null)
        {
            if (!CheckJson(field, where, value, problems) || field.Free)
            {
                return;
            }
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WalkObject(operation, value, path, problems);
                break;
            case JsonValueKind.Array:
                var items = path + "[]";
                operation.Body.TryGetValue(items, out var itemField);
                if (itemField is null && !operation.HasDescendants(items))
                {
                    problems.Add($"undeclared body field '{PrintablePath(items)}'");
                    break;
                }

                foreach (var item in value.EnumerateArray())
                {
                    WalkValue(operation, item, items, itemField, problems);
                }

                break;
            default:
                if (field is null)
                {
                    problems.Add($"{where} has the wrong type: expected {(operation.HasDescendants(path + "[]") ? "array" : "object")}");
                }

                break;
        }
    }

    /// <summary>Type, enum, length, range and format of one JSON value; false when its type is wrong (nothing below it is checked).</summary>
    private static bool CheckJson(FieldRule field, string where, JsonElement value, List<string> problems)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            if (!field.Nullable)
            {
                problems.Add($"{where} is null but the contract does not allow null");
            }

            return false;
        }

        var typeOk = field.Type switch
        {
            "string" => value.ValueKind == JsonValueKind.String,
            "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "number" => value.ValueKind == JsonValueKind.Number,
            "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "object" => value.ValueKind == JsonValueKind.Object,
            "array" => value.ValueKind == JsonValueKind.Array,
            _ => false,
        };
        if (!typeOk)
        {
            problems.Add($"{where} has the wrong type: expected {field.Type}");
            return false;
        }

        if (value.ValueKind is JsonValueKind.String or JsonValueKind.Number)
        {
            CheckText(field, where, value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText(), problems);
        }

        return true;
    }

    /// <summary>Type (for query and form text), enum, length, range and format of one text value.</summary>
    private static void CheckText(FieldRule field, string where, string value, List<string> problems)
    {
        var typeOk = field.Type switch
        {
            "integer" => long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            "number" => decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
            "boolean" => value is "true" or "false",
            "string" => true,
            _ => false,
        };
        if (!typeOk)
        {
            problems.Add($"{where} has the wrong type: expected {field.Type}");
            return;
        }

        if (field.Enum is { } allowed && !allowed.Contains(value, StringComparer.Ordinal))
        {
            problems.Add($"{where} has a value outside its enum");
        }

        if (field.MaxLength is { } max && value.Length > max)
        {
            problems.Add($"{where} is longer than {max.ToString(CultureInfo.InvariantCulture)} characters");
        }

        if (field.MinLength is { } min && value.Length < min)
        {
            problems.Add($"{where} is shorter than {min.ToString(CultureInfo.InvariantCulture)} characters");
        }

        if ((field.Minimum is not null || field.Maximum is not null) && decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            && (number < field.Minimum || number > field.Maximum))
        {
            problems.Add($"{where} is outside its range");
        }

        var formatOk = field.Format switch
        {
            "date-time" => DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.None, out _) && value.Contains('T', StringComparison.Ordinal),
            "email" => value.IndexOf('@', StringComparison.Ordinal) is > 0 && !value.EndsWith('@'),
            _ => true,
        };
        if (!formatOk)
        {
            problems.Add($"{where} is not a valid {field.Format}");
        }
    }

    private static bool Present(JsonElement root, string dottedPath)
    {
        var current = root;
        foreach (var name in dottedPath.Split('.'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<(string Name, string Value)> FormFields(string text)
    {
        foreach (var pair in text.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? string.Empty : pair[(equals + 1)..];
            yield return (Uri.UnescapeDataString(name.Replace('+', ' ')), Uri.UnescapeDataString(value.Replace('+', ' ')));
        }
    }

    /// <summary>The request path with every segment that is not a literal of some operation shown as '*': values never reach a violation.</summary>
    private string Shape(string[] segments) =>
        string.Join('/', segments.Select(s => s.Length == 0 || _literalSegments.Contains(s) ? s : "*"));

    [GeneratedRegex(@"^[A-Za-z0-9_\-\$/\+]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex NameShape();

    /// <summary>A name as it may be printed: names that do not look like identifiers could be values (an address used as a key).</summary>
    private static string Printable(string name) => NameShape().IsMatch(name) ? name : "(a name shaped like a value)";

    private static string PrintablePath(string path) =>
        string.Join('.', path.Split('.').Select(part =>
        {
            var name = part.TrimEnd('[', ']');
            return name.Length == 0 || NameShape().IsMatch(name) ? part : "*" + part[name.Length..];
        }));

    private static ProviderContract? LoadEmbedded(string provider)
    {
        var name = ResourcePrefix + provider + ResourceSuffix;
        using var stream = typeof(ProviderContract).Assembly.GetManifestResourceStream(name);
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        var contract = Parse(reader.ReadToEnd(), $"{provider}{ResourceSuffix}");
        return contract.Provider == provider
            ? contract
            : throw new ContractFileException($"{provider}{ResourceSuffix}: 'provider' is '{contract.Provider}', not '{provider}'.");
    }

    /// <summary>One operation of the contract, as read from the file.</summary>
    private sealed class Operation
    {
        public required string Id { get; init; }

        public required string Method { get; init; }

        public required string[] Segments { get; init; }

        public string[]? Schemes { get; init; }

        public string[] Scopes { get; init; } = [];

        public bool AnyScope { get; init; }

        public bool TokenInQueryAllowed { get; init; }

        public Dictionary<string, FieldRule> Query { get; init; } = [];

        public string[] RequiredQuery { get; init; } = [];

        public string? ContentType { get; init; }

        public Dictionary<string, FieldRule> Body { get; init; } = [];

        public string[] RequiredBody { get; init; } = [];

        public string[] RequiredHeaders { get; init; } = [];

        public bool Matches(string[] segments) =>
            segments.Length == Segments.Length
            && Segments.Zip(segments).All(p => p.First.StartsWith('{') ? p.Second.Length > 0 : string.Equals(p.First, p.Second, StringComparison.Ordinal));

        public bool HasDescendants(string path) =>
            path.Length == 0
                ? Body.Keys.Any(k => k.StartsWith("[]", StringComparison.Ordinal))
                : Body.Keys.Any(k => k.StartsWith(path + ".", StringComparison.Ordinal) || k.StartsWith(path + "[]", StringComparison.Ordinal));
    }

    /// <summary>What the contract says about one query parameter or body field.</summary>
    private sealed class FieldRule
    {
        public required string Type { get; init; }

        public IReadOnlyList<string>? Enum { get; init; }

        public int? MaxLength { get; init; }

        public int? MinLength { get; init; }

        public decimal? Minimum { get; init; }

        public decimal? Maximum { get; init; }

        public string? Format { get; init; }

        public bool Free { get; init; }

        public bool Nullable { get; init; }

        public bool Required { get; init; }
    }

    /// <summary>Reads a contract file, refusing anything it does not know so that a typo cannot silently allow everything.</summary>
    private sealed partial class ContractReader(string origin)
    {
        private static readonly string[] RootKeys = ["provider", "sources", "auth", "operations", "facts"];
        private static readonly string[] SourceKeys = ["title", "url", "repo", "path", "commit", "section"];
        private static readonly string[] AuthKeys = ["schemes", "tokenInQuery", "source", "refusal", "scopeRefusal"];
        private static readonly string[] RefusalKeys = ["status", "body", "source"];
        private static readonly string[] OperationKeys = ["id", "method", "path", "source", "summary", "auth", "scopes", "scopeMatch", "tokenInQuery", "query", "requiredQuery", "contentType", "body", "requiredHeaders"];
        private static readonly string[] FieldKeys = ["type", "enum", "maxLength", "minLength", "minimum", "maximum", "format", "free", "nullable", "required", "source"];
        private static readonly string[] FactKeys = ["id", "text", "source"];
        private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

        private Dictionary<string, ContractSource> _sources = [];

        [GeneratedRegex("^[0-9a-f]{40}$", RegexOptions.CultureInvariant)]
        private static partial Regex Commit();

        public ProviderContract Read(JsonElement root)
        {
            Keys(root, "the file", RootKeys, ["provider", "sources", "operations"]);
            var provider = Text(root, "provider", "the file");
            _sources = ReadSources(Property(root, "sources"));
            IReadOnlyList<string> schemes = ["none"];
            var tokenInQueryForbidden = true;
            CredentialRefusal? refusal = null;
            CredentialRefusal? scopeRefusal = null;
            if (root.TryGetProperty("auth", out var auth))
            {
                if (auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty("refusal", out var answer))
                {
                    refusal = ReadRefusal(answer, "auth.refusal");
                }

                if (auth.ValueKind == JsonValueKind.Object && auth.TryGetProperty("scopeRefusal", out var scopeAnswer))
                {
                    scopeRefusal = ReadRefusal(scopeAnswer, "auth.scopeRefusal");
                }

                Keys(auth, "auth", AuthKeys, ["schemes", "source"]);
                schemes = Strings(auth, "schemes", "auth");
                SourceOf(auth, "auth");
                tokenInQueryForbidden = TokenInQuery(auth, "auth") != "allowed";
            }

            var operations = new List<Operation>();
            foreach (var element in Array(root, "operations", "the file"))
            {
                var operation = ReadOperation(element);
                if (operations.Any(o => o.Id == operation.Id))
                {
                    throw Bad($"operation '{operation.Id}' is declared twice");
                }

                operations.Add(operation);
            }

            var facts = new List<string>();
            if (root.TryGetProperty("facts", out _))
            {
                foreach (var fact in Array(root, "facts", "the file"))
                {
                    var id = fact.ValueKind == JsonValueKind.Object && fact.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "(no id)";
                    Keys(fact, $"fact '{id}'", FactKeys, FactKeys);
                    Text(fact, "text", $"fact '{id}'");
                    SourceOf(fact, $"fact '{id}'");
                    facts.Add(Text(fact, "id", "a fact"));
                }
            }

            return new ProviderContract(provider, _sources, schemes, tokenInQueryForbidden, operations, facts, refusal, scopeRefusal);
        }

        private Dictionary<string, ContractSource> ReadSources(JsonElement sources)
        {
            if (sources.ValueKind != JsonValueKind.Object || !sources.EnumerateObject().Any())
            {
                throw Bad("'sources' must be an object with at least one source");
            }

            var result = new Dictionary<string, ContractSource>(StringComparer.Ordinal);
            foreach (var property in sources.EnumerateObject())
            {
                var where = $"source '{property.Name}'";
                Keys(property.Value, where, SourceKeys, ["title"]);
                var source = new ContractSource(
                    Text(property.Value, "title", where), Optional(property.Value, "url", where), Optional(property.Value, "repo", where),
                    Optional(property.Value, "path", where), Optional(property.Value, "commit", where), Optional(property.Value, "section", where));
                var fromRepo = source.Repo is not null && source.Path is not null && source.Commit is not null && Commit().IsMatch(source.Commit);
                var fromUrl = source.Url is not null && Uri.TryCreate(source.Url, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps;
                if (!fromRepo && !fromUrl)
                {
                    throw Bad($"{where} needs an https 'url' or 'repo', 'path' and a 40-hex 'commit'");
                }

                result[property.Name] = source;
            }

            return result;
        }

        private Operation ReadOperation(JsonElement element)
        {
            var id = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString()! : "(no id)";
            var where = $"operation '{id}'";
            Keys(element, where, OperationKeys, ["id", "method", "path", "source"]);
            SourceOf(element, where);
            var method = Text(element, "method", where);
            if (!Methods.Contains(method, StringComparer.Ordinal))
            {
                throw Bad($"{where}: 'method' must be one of {string.Join(", ", Methods)}");
            }

            var path = Text(element, "path", where);
            if (!path.StartsWith('/') || path.Contains('?', StringComparison.Ordinal))
            {
                throw Bad($"{where}: 'path' must start with '/' and hold no query");
            }

            var scopeMatch = element.TryGetProperty("scopeMatch", out _) ? Text(element, "scopeMatch", where) : "all";
            if (scopeMatch is not ("all" or "any"))
            {
                throw Bad($"{where}: 'scopeMatch' must be 'all' or 'any'");
            }

            var query = Fields(element, "query", where, QueryTypes);
            var requiredQuery = element.TryGetProperty("requiredQuery", out _) ? Strings(element, "requiredQuery", where) : [];
            foreach (var name in requiredQuery.Where(n => !query.ContainsKey(n)))
            {
                throw Bad($"{where}: required query parameter '{name}' is not declared in 'query'");
            }

            var body = Fields(element, "body", where, BodyTypes);
            var contentType = element.TryGetProperty("contentType", out _) ? Text(element, "contentType", where) : null;
            if (body.Count > 0 && contentType is null)
            {
                throw Bad($"{where}: a 'body' needs a 'contentType'");
            }

            foreach (var (name, field) in body.Where(b => b.Value.Required && b.Key.Contains("[]", StringComparison.Ordinal)))
            {
                throw Bad($"{where}: body field '{name}' is inside an array and cannot be 'required'");
            }

            return new Operation
            {
                Id = id,
                Method = method,
                Segments = path.Split('/'),
                Schemes = element.TryGetProperty("auth", out _) ? Strings(element, "auth", where) : null,
                Scopes = element.TryGetProperty("scopes", out _) ? Strings(element, "scopes", where) : [],
                AnyScope = scopeMatch == "any",
                TokenInQueryAllowed = element.TryGetProperty("tokenInQuery", out _) && TokenInQuery(element, where) == "allowed",
                Query = query,
                RequiredQuery = requiredQuery,
                ContentType = contentType,
                Body = body,
                RequiredBody = [.. body.Where(b => b.Value.Required).Select(b => b.Key)],
                RequiredHeaders = element.TryGetProperty("requiredHeaders", out _) ? Strings(element, "requiredHeaders", where) : [],
            };
        }

        private Dictionary<string, FieldRule> Fields(JsonElement operation, string name, string where, string[] types)
        {
            var result = new Dictionary<string, FieldRule>(StringComparer.Ordinal);
            if (!operation.TryGetProperty(name, out var map))
            {
                return result;
            }

            if (map.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"{where}: '{name}' must be an object");
            }

            foreach (var property in map.EnumerateObject())
            {
                var fieldWhere = $"{where}, {name} '{property.Name}'";
                Keys(property.Value, fieldWhere, FieldKeys, ["type"]);
                if (property.Value.TryGetProperty("source", out _))
                {
                    SourceOf(property.Value, fieldWhere);
                }

                var type = Text(property.Value, "type", fieldWhere);
                if (!types.Contains(type, StringComparer.Ordinal))
                {
                    throw Bad($"{fieldWhere}: 'type' must be one of {string.Join(", ", types)}");
                }

                var format = Optional(property.Value, "format", fieldWhere);
                if (format is not null && !Formats.Contains(format, StringComparer.Ordinal))
                {
                    throw Bad($"{fieldWhere}: 'format' must be one of {string.Join(", ", Formats)}");
                }

                var free = Flag(property.Value, "free", fieldWhere);
                if (free && type != "object")
                {
                    throw Bad($"{fieldWhere}: only an object can be 'free'");
                }

                result[property.Name] = new FieldRule
                {
                    Type = type,
                    Enum = property.Value.TryGetProperty("enum", out var values) ? EnumValues(values, fieldWhere) : null,
                    MaxLength = Number(property.Value, "maxLength", fieldWhere) is { } max ? (int)max : null,
                    MinLength = Number(property.Value, "minLength", fieldWhere) is { } min ? (int)min : null,
                    Minimum = Number(property.Value, "minimum", fieldWhere),
                    Maximum = Number(property.Value, "maximum", fieldWhere),
                    Format = format,
                    Free = free,
                    Nullable = Flag(property.Value, "nullable", fieldWhere),
                    Required = Flag(property.Value, "required", fieldWhere),
                };
            }

            return result;
        }

        private string[] EnumValues(JsonElement values, string where)
        {
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() == 0
                || values.EnumerateArray().Any(v => v.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)))
            {
                throw Bad($"{where}: 'enum' must be a non-empty array of strings, numbers or booleans");
            }

            return [.. values.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())];
        }

        private void SourceOf(JsonElement element, string where)
        {
            var source = Text(element, "source", where);
            if (!_sources.ContainsKey(source))
            {
                throw Bad($"{where}: source '{source}' is not listed in 'sources'");
            }
        }

        private CredentialRefusal ReadRefusal(JsonElement element, string where)
        {
            Keys(element, where, RefusalKeys, RefusalKeys);
            SourceOf(element, where);
            var status = Property(element, "status");
            var body = Property(element, "body");
            if (status.ValueKind != JsonValueKind.Number || !status.TryGetInt32(out var code) || code is < 400 or > 499 || body.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"{where} needs a 4xx 'status' and an object 'body'");
            }

            return new CredentialRefusal(code, body.GetRawText());
        }

        private string TokenInQuery(JsonElement element, string where)
        {
            var value = Text(element, "tokenInQuery", where);
            return value is "forbidden" or "allowed" ? value : throw Bad($"{where}: 'tokenInQuery' must be 'forbidden' or 'allowed'");
        }

        private void Keys(JsonElement element, string where, string[] allowed, string[] required)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Bad($"{where} must be an object");
            }

            foreach (var property in element.EnumerateObject().Where(p => !allowed.Contains(p.Name, StringComparer.Ordinal)))
            {
                throw Bad($"{where}: unknown key '{property.Name}' (allowed: {string.Join(", ", allowed)})");
            }

            foreach (var missing in required.Where(r => !element.TryGetProperty(r, out _)))
            {
                throw Bad($"{where}: missing '{missing}'");
            }
        }

        private JsonElement Property(JsonElement element, string name) => element.GetProperty(name);

        private string Text(JsonElement element, string name, string where) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0
                ? value.GetString()!
                : throw Bad($"{where}: '{name}' must be a non-empty string");

        private string? Optional(JsonElement element, string name, string where) =>
            element.TryGetProperty(name, out _) ? Text(element, name, where) : null;

        private bool Flag(JsonElement element, string name, string where) =>
            element.TryGetProperty(name, out var value)
                ? value.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw Bad($"{where}: '{name}' must be true or false") }
                : false;

        private decimal? Number(JsonElement element, string name, string where) =>
            element.TryGetProperty(name, out var value)
                ? value.ValueKind == JsonValueKind.Number ? value.GetDecimal() : throw Bad($"{where}: '{name}' must be a number")
                : null;

        private string[] Strings(JsonElement element, string name, string where) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
                && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                ? [.. value.EnumerateArray().Select(v => v.GetString()!)]
                : throw Bad($"{where}: '{name}' must be an array of non-empty strings");

        private JsonElement.ArrayEnumerator Array(JsonElement element, string name, string where) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
                ? value.EnumerateArray()
                : throw Bad($"{where}: '{name}' must be an array");

        private ContractFileException Bad(string problem) => new($"{origin}: {problem}.");
    }
}

/// <summary>The status and JSON body a provider documents for a request refused for its credential (misplaced, or lacking a scope).</summary>
public sealed record CredentialRefusal(int Status, string Body);
