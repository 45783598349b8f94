using System.Reflection;
using Cafetalk.Integrations.Disclosure;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;

namespace Cafetalk.Integrations.Functions;

/// <summary>
/// Application Insights records each call with its full URL. Outgoing ones can carry a lecturer's refresh token (Google's
/// revoke query) or a member's email (the mail service's suppression path); incoming ones a connect ticket, an
/// unsubscribe token (<c>?t=</c>) or a member id (<c>members/{memberId}/disclosures</c>). So a dependency keeps only
/// scheme, host and the route template the disclosure policy matched it to, a request the route template of its HTTP
/// function, and either one its path without the query when no template matches.
/// </summary>
internal sealed class DependencyUrlScrubber(DisclosurePolicy policy) : ITelemetryInitializer
{
    /// <summary>The app's own routes, read from its functions' attributes so they cannot drift.</summary>
    private static readonly IReadOnlyList<AllowedRoute> HttpRoutes = typeof(DependencyUrlScrubber).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
        .SelectMany(m => m.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).OfType<HttpTriggerAttribute>())
        .SelectMany(t => (t.Methods ?? []).Select(method => new AllowedRoute(method.ToUpperInvariant(), "/api/" + t.Route)))
        .ToList();

    public void Initialize(ITelemetry telemetry)
    {
        switch (telemetry)
        {
            case DependencyTelemetry dependency when Uri.TryCreate(dependency.Data, UriKind.Absolute, out var url) && url.Scheme is "http" or "https":
            {
                var (method, path) = Scrub(dependency.Name, url, policy.Purposes.SelectMany(p => p.Routes));
                dependency.Data = $"{url.Scheme}://{url.Authority}{path}";
                dependency.Name = method is null ? dependency.Name : $"{method} {path}";
                break;
            }

            case RequestTelemetry request when request.Url is { IsAbsoluteUri: true } url:
            {
                var (method, path) = Scrub(request.Name, url, HttpRoutes);
                request.Url = new Uri($"{url.Scheme}://{url.Authority}{path}");
                request.Name = method is null ? request.Name : $"{method} {path}";
                break;
            }
        }
    }

    /// <summary>The method named in <paramref name="name"/> (<c>GET /path</c>) and the path to keep: the matching template, else the bare path.</summary>
    private static (string? Method, string Path) Scrub(string? name, Uri url, IEnumerable<AllowedRoute> routes)
    {
        var method = name?.Split(' ', 2) is [var verb, _] ? verb : null;
        // A request named after its function (no method in the name) is matched on its path alone.
        var template = routes.FirstOrDefault(r => r.Matches(new HttpMethod(method ?? r.Method), url.AbsolutePath))?.PathTemplate;
        return (method, template ?? url.AbsolutePath);
    }
}
