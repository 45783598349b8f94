using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.IntegrationTests.Newsletter;

/// <summary>
/// The resubscribe button as a browser presses it without a browser: opens the link's page (the member is
/// unsubscribed, so it offers the button with a one-time confirmation) and posts that form from the same origin.
/// </summary>
internal static partial class ResubscribeButton
{
    public static async Task<HttpResponseMessage> PressAsync(HttpClient http, Uri link)
    {
        var confirm = ConfirmToken(await http.GetStringAsync(link)) ?? throw new InvalidOperationException("The page offers no resubscribe button.");
        return await PostAsync(http, link, confirm, SameOrigin(link));
    }

    /// <summary>POST resubscribe for the link, with the given confirmation (or none) and headers.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient http, Uri link, string? confirm, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ResubscribeUri(link))
        {
            Content = new FormUrlEncodedContent(confirm is null ? [] : [new("confirm", confirm)]),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await http.SendAsync(request);
    }

    /// <summary>What a browser sends with a form posted from one of our own pages.</summary>
    public static (string, string)[] SameOrigin(Uri link) => [("Origin", link.GetLeftPart(UriPartial.Authority)), ("Sec-Fetch-Site", "same-origin")];

    public static Uri ResubscribeUri(Uri link) => new(link.ToString().Replace("/unsubscribe?", "/resubscribe?", StringComparison.Ordinal));

    public static string? ConfirmToken(string html) => ConfirmField().Match(html) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex("name=\"confirm\" value=\"([A-Za-z0-9_-]{43})\"")]
    private static partial Regex ConfirmField();
}
