using Microsoft.AspNetCore.Http;

namespace Cafetalk.Integrations.Web;

/// <summary>
/// Whether a browser's POST came from one of our own pages: <c>Sec-Fetch-Site: same-origin</c> (Fetch Metadata), or,
/// from a browser that does not send it, an <c>Origin</c> naming this host. A request with neither is refused: every
/// current browser sends <c>Origin</c> on a form POST.
/// </summary>
public static class SameOriginRequests
{
    public static bool IsSameOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site == "same-origin";
        }

        return Uri.TryCreate(request.Headers.Origin.ToString(), UriKind.Absolute, out var origin)
            && origin.Scheme is "https" or "http"
            && string.Equals(origin.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
