using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Sandbox.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>The Kestrel app a provider simulator runs in: loopback only, a free port, no logging of its own.</summary>
internal static class LoopbackHost
{
    // Violation texts name fields in quotes; keep them readable in the 400 body.
    private static readonly System.Text.Json.JsonSerializerOptions ReadableJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static WebApplication Create()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        return app;
    }

    /// <summary>
    /// Serves every request with <paramref name="handler"/> and returns the base address (with a trailing slash).
    /// Before the handler, each request is recorded for the wire log (<see cref="WireTap"/>) and, when
    /// <paramref name="provider"/> has a contract file, checked against it (<paramref name="basePrefix"/> stripped
    /// from the path first): a violation is answered 400 and recorded in <see cref="ContractViolations"/>.
    /// <paramref name="tokenScopes"/>, when given, tells the check which scopes the request's token holds.
    /// </summary>
    public static async Task<Uri> StartAsync(
        WebApplication app, string provider, RequestDelegate handler, CancellationToken cancellationToken,
        string basePrefix = "", Func<HttpRequest, IReadOnlyCollection<string>?>? tokenScopes = null)
    {
        ConcurrentQueue<ObservedRequest>? tap = null;
        Uri? self = null;
        app.Use(async (context, next) =>
        {
            var observed = await ObserveAsync(context.Request, basePrefix);
            tap?.Enqueue(observed);
            ProviderContract? contract;
            try
            {
                contract = ProviderContract.For(provider);
            }
            catch (ContractFileException e)
            {
                // A broken contract file refuses every request: it must never let one through unchecked.
                ContractViolations.Checked(provider);
                await RefuseAsync(context, self!, null, [new ContractViolation(provider, "contract file", e.Message)]);
                return;
            }

            if (contract is null)
            {
                await next(context);
                return;
            }

            var request = new ContractRequest(observed.Method, observed.Path, observed.Query, observed.ContentType, observed.Body, observed.HeaderNames, observed.AuthScheme, tokenScopes?.Invoke(context.Request));
            var violations = contract.Validate(request);
            ContractViolations.Checked(provider);
            if (violations.Count == 0)
            {
                await next(context);
                return;
            }

            await RefuseAsync(context, self!, contract, violations);
        });
        app.Run(handler);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new Uri(address.TrimEnd('/') + "/");
        tap = WireTap.Open(self);
        app.Lifetime.ApplicationStopped.Register(() => WireTap.Close(self));
        return self;
    }

    /// <summary>Records <paramref name="violations"/> and answers 400 naming them (never a value).</summary>
    private static async Task RefuseAsync(HttpContext context, Uri simulator, ProviderContract? contract, IReadOnlyList<ContractViolation> violations)
    {
        ContractViolations.Record(simulator, violations);
        if (contract?.Refusal is { } refusal && violations.All(ProviderContract.IsCredentialProblem))
        {
            // The provider documents its own answer to a misplaced credential (Zoom: 401 code 124): clients must see that, not ours.
            context.Response.StatusCode = refusal.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(refusal.Body, context.RequestAborted);
            return;
        }

        if (contract?.ScopeRefusal is { } scopeRefusal && violations.All(ProviderContract.IsScopeProblem))
        {
            // A token lacking a scope gets the provider's documented answer (Vimeo: 403), still recorded above for the suite's scan.
            context.Response.StatusCode = scopeRefusal.Status;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(scopeRefusal.Body, context.RequestAborted);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json";
        var errors = new JsonArray([.. violations.Select(v => (JsonNode)new JsonObject { ["message"] = v.ToString() })]);
        await context.Response.WriteAsync(new JsonObject { ["message"] = "The request breaks the provider's published contract.", ["errors"] = errors }.ToJsonString(ReadableJson), context.RequestAborted);
    }

    private static async Task<ObservedRequest> ObserveAsync(HttpRequest request, string basePrefix)
    {
        var path = request.Path.Value ?? "/";
        if (basePrefix.Length > 0 && path.StartsWith(basePrefix, StringComparison.Ordinal))
        {
            path = "/" + path[basePrefix.Length..].TrimStart('/');
        }

        var body = string.Empty;
        if (IsText(request.ContentType))
        {
            request.EnableBuffering();
            body = await new StreamReader(request.Body, leaveOpen: true).ReadToEndAsync(request.HttpContext.RequestAborted);
            request.Body.Position = 0;
        }

        return new ObservedRequest(
            TimeProvider.System.GetUtcNow(), request.Method, path, request.QueryString.Value ?? string.Empty, request.ContentType, body,
            [.. request.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase)], ContractRequest.SchemeOf(request.Headers.Authorization));
    }

    private static bool IsText(string? contentType) =>
        contentType is not null
        && (contentType.Contains("json", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("text/", StringComparison.OrdinalIgnoreCase));
}
