using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Telemetry;

/// <summary>
/// ASP.NET Core categories that log whole URLs: the request line (<c>Request starting GET …?t=…</c>), the target of
/// a redirect, a malformed request's raw target and the path route matching saw. Our URLs carry unsubscribe tokens, connect tickets, OAuth states and codes, and a redirect to Google
/// carries the state, so these categories are switched off for every logging provider, whatever the configuration says.
/// </summary>
public static class UrlLoggingCategories
{
    public static readonly IReadOnlyList<string> Silenced =
    [
        "Microsoft.AspNetCore.Hosting.Diagnostics",
        "Microsoft.AspNetCore.Mvc.Infrastructure.RedirectResultExecutor",
        // Kestrel's malformed-request log quotes the raw request target, query included (tokens, function keys): the
        // whole-suite log scan found it in the route fuzzer's output. The 400 itself still reaches the caller.
        "Microsoft.AspNetCore.Server.Kestrel.BadRequests",
        // Route matching quotes the request path at Debug, and a path's {memberId} is whatever the caller sent.
        "Microsoft.AspNetCore.Routing.Matching.DfaMatcher",
    ];

    public static IServiceCollection SilenceUrlLoggingCategories(this IServiceCollection services) =>
        // PostConfigure, so the rules come after configuration's; one per provider that has rules of its own, since a
        // provider-specific rule (Logging:ApplicationInsights:LogLevel:Default) would otherwise outrank a general one.
        services.PostConfigure<LoggerFilterOptions>(options =>
        {
            foreach (var provider in options.Rules.Select(r => r.ProviderName).Append(null).Distinct().ToList())
            {
                foreach (var category in Silenced)
                {
                    options.Rules.Add(new LoggerFilterRule(provider, category, LogLevel.None, null));
                }
            }
        });
}
