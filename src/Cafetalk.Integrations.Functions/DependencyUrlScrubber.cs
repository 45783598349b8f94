using Cafetalk.Integrations.Disclosure;
using Microsoft.ApplicationInsights.Channel;
using Microsoft.ApplicationInsights.DataContracts;
using Microsoft.ApplicationInsights.Extensibility;

namespace Cafetalk.Integrations.Functions;

/// <summary>
/// Application Insights records each outgoing call with its full URL. Ours can carry a lecturer's refresh token
/// (Google's revoke query) or a member's email (the mail service's suppression path), so a dependency keeps only
/// scheme, host and the route template the disclosure policy matched it to, or its path without the query.
/// </summary>
internal sealed class DependencyUrlScrubber(DisclosurePolicy policy) : ITelemetryInitializer
{
    public void Initialize(ITelemetry telemetry)
    {
        if (telemetry is not DependencyTelemetry dependency || !Uri.TryCreate(dependency.Data, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return;
        }

        var method = dependency.Name?.Split(' ', 2) is [var verb, _] ? verb : null;
        var template = method is null
            ? null
            : policy.Purposes.SelectMany(p => p.Routes).FirstOrDefault(r => r.Matches(new HttpMethod(method), url.AbsolutePath))?.PathTemplate;
        var path = template ?? url.AbsolutePath;
        dependency.Data = $"{url.Scheme}://{url.Authority}{path}";
        if (method is not null)
        {
            dependency.Name = $"{method} {path}";
        }
    }
}
