using Cafetalk.Integrations.Disclosure;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Zoom;

/// <summary>
/// Server-to-Server OAuth (<c>grant_type=account_credentials</c>): one token per instance, reused until shortly
/// before it expires, with at most one refresh in flight however many calls wait for it.
/// </summary>
public sealed class ZoomTokenProvider(
    IHttpClientFactory httpClients,
    IOptions<ZoomOptions> options,
    TimeProvider time,
    ILogger<ZoomTokenProvider> logger,
    DisclosurePolicy policy) : IDisposable
{
    public const string HttpClientName = "Cafetalk.Zoom.OAuth";

    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private CachedToken? _cached;

    public async ValueTask<string> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        if (Fresh(Volatile.Read(ref _cached)) is { } token)
        {
            return token;
        }

        await _refreshGate.WaitAsync(cancellationToken);
        try
        {
            // Whoever waited behind the refresh takes its result instead of fetching again.
            if (Fresh(Volatile.Read(ref _cached)) is { } refreshed)
            {
                return refreshed;
            }

            var fetched = await RequestTokenAsync(cancellationToken);
            Volatile.Write(ref _cached, fetched);
            return fetched.AccessToken;
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    /// <summary>Drops a token Zoom refused (401) so the next call fetches a new one; a newer token is kept.</summary>
    public void Invalidate(string accessToken)
    {
        var current = Volatile.Read(ref _cached);
        if (current is not null && current.AccessToken == accessToken)
        {
            Interlocked.CompareExchange(ref _cached, null, current);
        }
    }

    private string? Fresh(CachedToken? cached) =>
        cached is not null && time.GetUtcNow() < cached.ExpiresAtUtc - options.Value.TokenRefreshMargin ? cached.AccessToken : null;

    private async Task<CachedToken> RequestTokenAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var request = new HttpRequestMessage(HttpMethod.Post, "oauth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "account_credentials",
                ["account_id"] = settings.AccountId,
            }),
        };
        request.DeclareDisclosure(DisclosureContext.WithoutPersonalData(policy.GetPurpose(DisclosurePolicy.PurposeIds.ZoomAuthentication)));
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{settings.ClientId}:{settings.ClientSecret}")));

        var requestedAt = time.GetUtcNow();
        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ZoomAuthenticationException(null, "the token endpoint could not be reached", ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var reason = response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized
                    ? "the account id, client id or client secret was refused"
                    : "the token endpoint answered with an error";
                throw new ZoomAuthenticationException(response.StatusCode, reason);
            }

            TokenResponse? body;
            try
            {
                body = await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken);
            }
            catch (JsonException ex)
            {
                throw new ZoomAuthenticationException(response.StatusCode, "the token response is not JSON", ex);
            }

            if (body is not { AccessToken.Length: > 0, ExpiresIn: > 0 })
            {
                throw new ZoomAuthenticationException(response.StatusCode, "the token response has no access_token or expires_in");
            }

            // Expiry counts from when we asked, so a slow answer never makes the token look younger than it is.
            var expiresAt = requestedAt.AddSeconds(body.ExpiresIn);
            logger.LogInformation("Zoom access token obtained; it expires at {ExpiresAtUtc:O}", expiresAt);
            return new CachedToken(body.AccessToken, expiresAt);
        }
    }

    public void Dispose() => _refreshGate.Dispose();

    private sealed record CachedToken(string AccessToken, DateTimeOffset ExpiresAtUtc);

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}

/// <summary>Puts the bearer token on every Zoom API call; a 401 gets one retry with a freshly fetched token.</summary>
public sealed class ZoomAuthenticationHandler(ZoomTokenProvider tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = await tokens.GetTokenAsync(cancellationToken);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        // A token revoked before its time (the app's secret rotated) is replaced once; a second 401 is real.
        response.Dispose();
        tokens.Invalidate(token);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(cancellationToken));
        return await base.SendAsync(request, cancellationToken);
    }
}
