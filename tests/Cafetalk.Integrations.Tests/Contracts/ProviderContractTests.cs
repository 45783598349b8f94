using Cafetalk.Integrations.Sandbox.Contracts;

namespace Cafetalk.Integrations.Tests.Contracts;

/// <summary>The contract validator: each kind of violation found and named without a value, and a bad contract file refused.</summary>
public sealed class ProviderContractTests
{
    private const string Contract = """
        {
          "provider": "example",
          "sources": {
            "spec": { "title": "Example API spec", "repo": "example/api", "path": "spec.json", "commit": "0123456789abcdef0123456789abcdef01234567" },
            "faq": { "title": "Token FAQ", "url": "https://example.com/faq" }
          },
          "auth": { "schemes": ["Bearer"], "tokenInQuery": "forbidden", "source": "faq" },
          "operations": [
            {
              "id": "meetings.create", "method": "POST", "path": "/v2/users/{userId}/meetings", "source": "spec",
              "scopes": ["meeting:write"],
              "query": { "mode": { "type": "string", "enum": ["fast", "slow"] }, "limit": { "type": "integer", "maximum": 300 } },
              "requiredQuery": ["mode"],
              "contentType": "application/json",
              "body": {
                "topic": { "type": "string", "maxLength": 10, "required": true },
                "type": { "type": "integer", "enum": [1, 2] },
                "settings.waiting_room": { "type": "boolean" },
                "attendees[].email": { "type": "string", "format": "email" },
                "tracking": { "type": "object", "free": true }
              }
            },
            { "id": "token", "method": "POST", "path": "/oauth/token", "source": "spec", "auth": ["Basic"],
              "contentType": "application/x-www-form-urlencoded", "body": { "grant_type": { "type": "string", "enum": ["client_credentials"] } } }
          ],
          "facts": [ { "id": "header-only", "text": "Tokens only in the Authorization header.", "source": "faq" } ]
        }
        """;

    private const string GoodBody = """{"topic":"Lesson","type":2,"settings":{"waiting_room":true},"attendees":[{"email":"a@example.com"}],"tracking":{"any":{"thing":1}}}""";

    private static readonly ProviderContract Sut = ProviderContract.Parse(Contract, "example.contract.json");

    private static ContractRequest Create(string query = "?mode=fast", string body = GoodBody, string auth = "Bearer", string contentType = "application/json; charset=utf-8",
        string path = "/v2/users/u1/meetings", string method = "POST", IReadOnlyCollection<string>? scopes = null) =>
        new(method, path, query, contentType, body, ["Authorization", "Content-Type", "Host"], auth, scopes);

    private static string Single(ContractRequest request)
    {
        var violation = Assert.Single(Sut.Validate(request));
        Assert.Equal("example", violation.Provider);
        return violation.ToString();
    }

    [Fact]
    public void ValidRequests_PassBothOperations()
    {
        Assert.Empty(Sut.Validate(Create(query: "?mode=fast&limit=300", scopes: ["meeting:write", "user:read"])));
        Assert.Empty(Sut.Validate(new ContractRequest("POST", "/oauth/token", string.Empty, "application/x-www-form-urlencoded", "grant_type=client_credentials", ["Authorization"], "Basic")));
    }

    [Fact]
    public void UndeclaredQueryParameter_IsNamed()
    {
        Assert.Equal("example meetings.create: undeclared query parameter 'query'", Single(Create(query: "?mode=fast&query=Lesson%20folder")));
    }

    [Fact]
    public void UndeclaredBodyField_IsNamed_AtEveryDepth()
    {
        Assert.Equal("example meetings.create: undeclared body field 'agenda'", Single(Create(body: """{"topic":"Lesson","agenda":"x"}""")));
        Assert.Equal("example meetings.create: undeclared body field 'settings.host_video'", Single(Create(body: """{"topic":"Lesson","settings":{"host_video":true}}""")));
        Assert.Equal("example meetings.create: undeclared body field 'attendees[].name'", Single(Create(body: """{"topic":"Lesson","attendees":[{"email":"a@example.com","name":"Hanako"}]}""")));
    }

    [Fact]
    public void ValueOutsideEnum_IsFound_InBodyAndQuery_WithoutTheValue()
    {
        var body = Single(Create(body: """{"topic":"Lesson","type":8}"""));
        var query = Single(Create(query: "?mode=secret-value"));

        Assert.Equal("example meetings.create: body field 'type' has a value outside its enum", body);
        Assert.Equal("example meetings.create: query parameter 'mode' has a value outside its enum", query);
        Assert.DoesNotContain("secret-value", query, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongType_IsFound_InBodyAndQuery()
    {
        Assert.Equal("example meetings.create: body field 'type' has the wrong type: expected integer", Single(Create(body: """{"topic":"Lesson","type":"2"}""")));
        Assert.Equal("example meetings.create: body field 'settings.waiting_room' has the wrong type: expected boolean", Single(Create(body: """{"topic":"Lesson","settings":{"waiting_room":"yes"}}""")));
        Assert.Equal("example meetings.create: query parameter 'limit' has the wrong type: expected integer", Single(Create(query: "?mode=fast&limit=many")));
        Assert.Equal("example meetings.create: body field 'topic' is longer than 10 characters", Single(Create(body: """{"topic":"A much longer topic"}""")));
        Assert.Equal("example meetings.create: query parameter 'limit' is outside its range", Single(Create(query: "?mode=fast&limit=301")));
    }

    [Fact]
    public void MissingRequiredQueryAndBodyField_AreFound()
    {
        Assert.Equal("example meetings.create: missing required query parameter 'mode'", Single(Create(query: string.Empty)));
        Assert.Equal("example meetings.create: missing required body field 'topic'", Single(Create(body: """{"type":1}""")));
    }

    [Fact]
    public void WrongAuthScheme_IsFound_PerOperation()
    {
        Assert.Equal("example meetings.create: auth scheme 'Basic' is not one of [Bearer]", Single(Create(auth: "Basic")));
        Assert.Equal("example meetings.create: auth scheme 'none' is not one of [Bearer]", Single(Create(auth: "none")));
        Assert.Contains("auth scheme 'Bearer' is not one of [Basic]",
            Single(new ContractRequest("POST", "/oauth/token", string.Empty, "application/x-www-form-urlencoded", "grant_type=client_credentials", [], "Bearer")), StringComparison.Ordinal);
    }

    [Fact]
    public void TokenInQuery_IsRefused_WithoutTheToken()
    {
        var found = Sut.Validate(Create(query: "?mode=fast&access_token=dl-0123456789abcdef", auth: "none"));

        Assert.Contains(found, v => v.Problem == "credential in query parameter 'access_token': tokens go in the Authorization header only");
        Assert.All(found, v => Assert.DoesNotContain("dl-0123", v.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void TokenLackingTheOperationsScope_IsRefused()
    {
        Assert.Equal("example meetings.create: token lacks scope [meeting:write]", Single(Create(scopes: ["user:read"])));
    }

    [Fact]
    public void UnknownOperation_IsNamedByShape_NeverByValue()
    {
        var wrongMethod = Single(Create(method: "PUT"));
        var unknownPath = Single(Create(path: "/v2/users/hanako@example.com/webinars"));

        Assert.Equal("example PUT /v2/users/*/meetings: unknown operation: the contract declares no such method and path", wrongMethod);
        Assert.Equal("example POST /v2/users/*/*: unknown operation: the contract declares no such method and path", unknownPath);
    }

    [Fact]
    public void WrongContentTypeAndBadJson_AreFound()
    {
        Assert.Equal("example meetings.create: content type 'text/plain' is not 'application/json'", Single(Create(contentType: "text/plain")));
        Assert.Equal("example meetings.create: body is not valid JSON", Single(Create(body: "{topic")));
        Assert.Equal("example meetings.create: body field 'topic' is null but the contract does not allow null", Single(Create(body: """{"topic":null}""")));
    }

    [Fact]
    public void FieldNamesShapedLikeValues_AreNotPrinted()
    {
        var found = Single(Create(body: """{"topic":"Lesson","hanako@example.com":true}"""));

        Assert.DoesNotContain("hanako", found, StringComparison.Ordinal);
        Assert.Contains("undeclared body field '*'", found, StringComparison.Ordinal);
    }

    [Fact]
    public void CredentialRefusal_IsTheProvidersOwnAnswer_AndCoversOnlyCredentialProblems()
    {
        var withRefusal = ProviderContract.Parse(
            Contract.Replace("\"tokenInQuery\": \"forbidden\", \"source\": \"faq\" }", "\"tokenInQuery\": \"forbidden\", \"source\": \"faq\", \"refusal\": { \"status\": 401, \"body\": { \"code\": 124 }, \"source\": \"faq\" } }", StringComparison.Ordinal),
            "example.contract.json");
        Assert.Null(Sut.Refusal);
        Assert.Equal(401, withRefusal.Refusal!.Status);
        Assert.Contains("124", withRefusal.Refusal.Body, StringComparison.Ordinal);

        Assert.All(withRefusal.Validate(Create(query: "?mode=fast&access_token=secret-value", auth: "none")), v => Assert.True(ProviderContract.IsCredentialProblem(v), v.ToString()));
        Assert.DoesNotContain(withRefusal.Validate(Create(query: "?mode=fast&extra=1")), ProviderContract.IsCredentialProblem);
    }

    [Fact]
    public void ScopeRefusal_IsTheProvidersOwnAnswer_AndCoversOnlyAMissingScope()
    {
        var withRefusal = ProviderContract.Parse(
            Contract.Replace("\"tokenInQuery\": \"forbidden\", \"source\": \"faq\" }", "\"tokenInQuery\": \"forbidden\", \"source\": \"faq\", \"scopeRefusal\": { \"status\": 403, \"body\": { \"error\": \"scope\" }, \"source\": \"faq\" } }", StringComparison.Ordinal),
            "example.contract.json");
        Assert.Null(Sut.ScopeRefusal);
        Assert.Equal((403, "{ \"error\": \"scope\" }"), (withRefusal.ScopeRefusal!.Status, withRefusal.ScopeRefusal.Body));

        Assert.All(withRefusal.Validate(Create(scopes: ["user:read"])), v => Assert.True(ProviderContract.IsScopeProblem(v), v.ToString()));
        Assert.DoesNotContain(withRefusal.Validate(Create(query: "?mode=fast&access_token=secret-value", auth: "none")), ProviderContract.IsScopeProblem);
    }

    [Fact]
    public void VimeoContract_AnswersAMissingScopeWith403AndItsErrorBody()
    {
        var vimeo = ProviderContract.For("vimeo")!;

        Assert.Equal(403, vimeo.ScopeRefusal!.Status);
        Assert.Equal(["error"], System.Text.Json.JsonDocument.Parse(vimeo.ScopeRefusal.Body).RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Contains("scope-refusal-body", vimeo.FactIds);
    }

    [Theory]
    [InlineData("\"auth\": {", "\"auth\": { \"sheme\": [\"Bearer\"],", "unknown key 'sheme'")]
    [InlineData("\"source\": \"faq\" },\n  \"operations\"", "\"source\": \"fqa\" },\n  \"operations\"", "source 'fqa' is not listed")]
    [InlineData("\"topic\": { \"type\": \"string\"", "\"topic\": { \"type\": \"text\"", "'type' must be one of")]
    [InlineData("\"requiredQuery\": [\"mode\"]", "\"requiredQuery\": [\"mdoe\"]", "required query parameter 'mdoe' is not declared")]
    [InlineData("\"commit\": \"0123456789abcdef0123456789abcdef01234567\"", "\"commit\": \"main\"", "source 'spec' needs")]
    [InlineData("\"maxLength\": 10,", "\"maxLenght\": 10,", "unknown key 'maxLenght'")]
    [InlineData("\"id\": \"token\", \"method\": \"POST\"", "\"id\": \"token\", \"method\": \"post\"", "'method' must be one of")]
    [InlineData("\"tokenInQuery\": \"forbidden\", \"source\": \"faq\" }", "\"tokenInQuery\": \"forbidden\", \"source\": \"faq\", \"refusal\": { \"status\": 200, \"body\": {}, \"source\": \"faq\" } }", "auth.refusal needs a 4xx")]
    [InlineData("\"tokenInQuery\": \"forbidden\", \"source\": \"faq\" }", "\"tokenInQuery\": \"forbidden\", \"source\": \"faq\", \"scopeRefusal\": { \"status\": 403, \"body\": \"no\", \"source\": \"faq\" } }", "auth.scopeRefusal needs a 4xx")]
    public void BadContractFile_IsRefused_NamingTheProblem(string find, string replace, string expected)
    {
        var text = Contract.Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.Contains(find, text, StringComparison.Ordinal);

        var refused = Assert.Throws<ContractFileException>(() => ProviderContract.Parse(text.Replace(find, replace, StringComparison.Ordinal), "example.contract.json"));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.StartsWith("example.contract.json: ", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedContracts_AllLoad_AndNameTheirProvider()
    {
        var shipped = ProviderContract.Available();

        Assert.Contains("sendgrid", shipped);
        Assert.All(shipped, provider => Assert.Equal(provider, ProviderContract.For(provider)!.Provider));
        Assert.Null(ProviderContract.For("no-such-provider"));
    }

    [Theory]
    [InlineData(null, "none")]
    [InlineData("Bearer abc.def", "Bearer")]
    [InlineData("Basic Zm9vOmJhcg==", "Basic")]
    [InlineData("SG.rawkeywithoutscheme", "unknown")]
    public void SchemeOf_NamesTheSchemeOnly(string? header, string expected) => Assert.Equal(expected, ContractRequest.SchemeOf(header));
}
