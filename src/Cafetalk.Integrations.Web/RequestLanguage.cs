using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Cafetalk.Integrations.Web;

/// <summary>The language of our pages for a request: <c>?lang=ja|en</c>, else Accept-Language, else Japanese.</summary>
public static class RequestLanguage
{
    /// <summary>The language <paramref name="request"/> asks for.</summary>
    public static string Of(HttpRequest request) => Choose(request.Headers.AcceptLanguage, request.Query["lang"]);

    /// <summary>Japanese unless the browser prefers English (Accept-Language quality order); <paramref name="lang"/> overrides.</summary>
    public static string Choose(StringValues acceptLanguage, string? lang = null)
    {
        if (lang is "ja" or "en")
        {
            return lang;
        }

        if (!StringWithQualityHeaderValue.TryParseList(acceptLanguage, out var languages))
        {
            return "ja";
        }

        foreach (var language in languages.OrderByDescending(l => l.Quality ?? 1.0))
        {
            var tag = language.Value.Value ?? string.Empty;
            if (tag.StartsWith("ja", StringComparison.OrdinalIgnoreCase))
            {
                return "ja";
            }

            if (tag.StartsWith("en", StringComparison.OrdinalIgnoreCase))
            {
                return "en";
            }
        }

        return "ja";
    }
}
