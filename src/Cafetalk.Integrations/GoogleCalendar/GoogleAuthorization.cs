using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar.Api;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Flows;
using Google.Apis.Auth.OAuth2.Requests;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Google.Apis.Util;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>The start of a consent: the URL to send the browser to and the PKCE verifier to keep.</summary>
public sealed record AuthorizationRequest(Uri Url, string CodeVerifier);

/// <summary>What the token endpoint granted for a code.</summary>
public sealed record GrantedTokens(string AccessToken, string? RefreshToken, string? Scope, DateTimeOffset ExpiresAtUtc)
{
    /// <summary>No token in the default text, so a stray log line cannot leak one.</summary>
    public override string ToString() => $"GrantedTokens {{ Scope = {Scope}, ExpiresAtUtc = {ExpiresAtUtc:O} }}";
}

/// <summary>
/// The lecturer's Google authorization through Google.Apis.Auth (PKCE code flow): the consent URL, the code exchange,
/// refreshes (access tokens cached until shortly before they expire) and revocation. Every call to Google goes
/// through the gated HttpClient and, where it carries the lecturer's code or token, through the ledger.
/// </summary>
public sealed class GoogleAuthorization(
    IHttpMessageHandlerFactory handlers,
    IOptions<GoogleCalendarOptions> options,
    GoogleDisclosures disclosures,
    TimeProvider time)
{
    public const string HttpClientName = "google-oauth";
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    // Access tokens by lecturer, tagged with a hash of the refresh token they came from; never persisted.
    private readonly ConcurrentDictionary<string, (string RefreshHash, string AccessToken, DateTimeOffset ExpiresAtUtc)> _accessTokens = new(StringComparer.Ordinal);

    public AuthorizationRequest CreateAuthorizationRequest(string state)
    {
        using var flow = CreateFlow(null);
        var url = (GoogleAuthorizationCodeRequestUrl)flow.CreateAuthorizationCodeRequest(options.Value.RedirectUri.ToString(), out var codeVerifier);
        url.State = state;
        url.AccessType = "offline";
        // Ask again each time, so Google always returns a refresh token for a fresh connection.
        url.Prompt = "consent";
        return new AuthorizationRequest(url.Build(), codeVerifier);
    }

    /// <summary>Exchanges the code with its verifier. The code is the lecturer's: the call is on the ledger under the consent being given.</summary>
    public async Task<GrantedTokens> ExchangeCodeAsync(string lecturerId, string code, string codeVerifier, string consentRecordId, string correlationId, CancellationToken cancellationToken = default)
    {
        var disclosure = new GoogleDisclosure(DisclosurePolicy.PurposeIds.GoogleAuthorization, "authorize", lecturerId, null, consentRecordId, correlationId,
            ["grant_type", "code", "code_verifier", "redirect_uri", "client_id", "client_secret", "scope"]);
        var token = await disclosures.DiscloseAsync(disclosure, async context =>
        {
            using var flow = CreateFlow(context);
            try
            {
                return await flow.ExchangeCodeForTokenAsync(lecturerId, code, codeVerifier, options.Value.RedirectUri.ToString(), cancellationToken);
            }
            catch (TokenResponseException ex)
            {
                throw new GoogleAuthorizationException("code exchange", ex.Error?.Error ?? "unknown", ex.StatusCode, ex);
            }
        }, cancellationToken: cancellationToken);
        var expires = Expiry(token);
        if (token.RefreshToken is not null)
        {
            _accessTokens[lecturerId] = (Hash(token.RefreshToken), token.AccessToken, expires);
        }

        return new GrantedTokens(token.AccessToken, token.RefreshToken, token.Scope, expires);
    }

    /// <summary>
    /// A current access token for the connection: cached, or refreshed (on the ledger). Throws
    /// <see cref="GoogleAuthorizationException"/> with <see cref="GoogleAuthorizationException.IsRevoked"/> on invalid_grant.
    /// </summary>
    public async Task<string> GetAccessTokenAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
    {
        var refreshHash = Hash(connection.RefreshToken);
        if (_accessTokens.TryGetValue(connection.LecturerId, out var cached) && cached.RefreshHash == refreshHash && cached.ExpiresAtUtc - RefreshMargin > time.GetUtcNow())
        {
            return cached.AccessToken;
        }

        var disclosure = new GoogleDisclosure(DisclosurePolicy.PurposeIds.GoogleAuthorization, "refresh", connection.LecturerId, null, connection.ConsentRecordId, correlationId,
            ["grant_type", "refresh_token", "client_id", "client_secret"]);
        var token = await disclosures.DiscloseAsync(disclosure, async context =>
        {
            using var flow = CreateFlow(context);
            try
            {
                return await flow.RefreshTokenAsync(connection.LecturerId, connection.RefreshToken, cancellationToken);
            }
            catch (TokenResponseException ex)
            {
                throw new GoogleAuthorizationException("refresh", ex.Error?.Error ?? "unknown", ex.StatusCode, ex);
            }
        }, cancellationToken: cancellationToken);
        _accessTokens[connection.LecturerId] = (refreshHash, token.AccessToken, Expiry(token));
        return token.AccessToken;
    }

    /// <summary>Revokes the refresh token at Google (and with it every access token); an already revoked token counts as done.</summary>
    public async Task RevokeAsync(CalendarConnection connection, string correlationId, CancellationToken cancellationToken = default)
    {
        _accessTokens.TryRemove(connection.LecturerId, out _);
        var disclosure = new GoogleDisclosure(DisclosurePolicy.PurposeIds.GoogleAuthorization, "revoke", connection.LecturerId, null, connection.ConsentRecordId, correlationId,
            ["query:token"]);
        await disclosures.DiscloseAsync(disclosure, async context =>
        {
            using var flow = CreateFlow(context);
            try
            {
                await flow.RevokeTokenAsync(connection.LecturerId, connection.RefreshToken, cancellationToken);
            }
            catch (TokenResponseException ex) when (ex.Error?.Error is "invalid_token" or "invalid_grant")
            {
                // Already revoked (by the lecturer at Google, or by an earlier attempt): the goal is met.
            }

            return true;
        }, cancellationToken: cancellationToken);
    }

    /// <summary>Forgets a cached access token, e.g. after Google refused it.</summary>
    public void Forget(string lecturerId) => _accessTokens.TryRemove(lecturerId, out _);

    private PkceGoogleAuthorizationCodeFlow CreateFlow(DisclosureContext? disclosure)
    {
        var google = options.Value;
        var flow = new PkceGoogleAuthorizationCodeFlow(new EndpointInitializer(google)
        {
            ClientSecrets = new ClientSecrets { ClientId = google.ClientId, ClientSecret = google.ClientSecret },
            Scopes = [GoogleCalendarOptions.Scope],
            HttpClientFactory = new PipelineHttpClientFactory(handlers, HttpClientName),
            Clock = new TimeProviderClock(time),
            DefaultExponentialBackOffPolicy = ExponentialBackOffPolicy.None,
        });
        if (disclosure is not null)
        {
            flow.HttpClient.MessageHandler.AddExecuteInterceptor(new DisclosureInterceptor(disclosure));
        }

        return flow;
    }

    private DateTimeOffset Expiry(TokenResponse token) => time.GetUtcNow().AddSeconds(token.ExpiresInSeconds ?? 3600);

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));

    /// <summary>The flow's settings with our endpoints (Google's own, or the Sandbox simulator's).</summary>
    private sealed class EndpointInitializer(GoogleCalendarOptions google) : GoogleAuthorizationCodeFlow.Initializer(
        google.AuthorizationEndpoint.ToString(), google.TokenEndpoint.ToString(), google.RevokeEndpoint.ToString());

    /// <summary>Google.Apis' clock on our TimeProvider, so token expiry follows the same time as everything else.</summary>
    private sealed class TimeProviderClock(TimeProvider time) : IClock
    {
        public DateTime Now => time.GetLocalNow().DateTime;

        public DateTime UtcNow => time.GetUtcNow().UtcDateTime;
    }
}
