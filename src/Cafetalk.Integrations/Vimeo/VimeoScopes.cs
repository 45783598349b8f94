using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// The OAuth scopes Cafetalk's Vimeo token needs, each the <c>security</c> requirement of an operation we call in
/// Vimeo's OpenAPI 3.4 (vimeo/openapi api.yaml; see Sandbox/Contracts/vimeo.contract.json).
/// </summary>
public static class VimeoScopes
{
    public static readonly IReadOnlyDictionary<string, string> Required = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["upload"] = "POST /me/videos (create the tus upload)",
        ["edit"] = "PUT /videos/{id}/privacy/domains/{domain} (embed whitelist)",
        ["delete"] = "DELETE /videos/{id}, DELETE /me/projects/{id}",
        ["private"] = "GET /me/projects (find the lecturer's folder)",
        ["create"] = "POST /me/projects (create the lecturer's folder)",
        ["interact"] = "PUT /me/projects/{id}/videos/{id} (move the video into the folder)",
    };
}

/// <summary>The Vimeo token lacks scopes the recording pipeline needs: nothing is sent until it is replaced.</summary>
public sealed class VimeoScopesMissingException(IReadOnlyCollection<string> missing)
    : Exception($"The Vimeo access token lacks the scopes {string.Join(", ", missing)}; recordings wait until a token with them is configured.")
{
    public IReadOnlyCollection<string> Missing { get; } = missing;
}

/// <summary>
/// Asks Vimeo (GET /oauth/verify) which scopes the configured token has, once per process while they suffice, and
/// refuses recording work while one is missing: a missing scope is found before any upload, not at its last step.
/// </summary>
public sealed class VimeoScopeCheck(VimeoClient vimeo, DisclosurePolicy policy, VimeoScopeCheck.State state)
{
    /// <summary>Whether this process has seen the token's scopes suffice (a singleton: the check itself uses a transient client).</summary>
    public sealed class State
    {
        internal volatile bool Verified;
    }

    public async Task EnsureAsync(CancellationToken cancellationToken = default)
    {
        if (state.Verified)
        {
            return;
        }

        // Two first calls at once both ask Vimeo: harmless, and simpler than a lock around an HTTP call.
        var context = DisclosureContext.WithoutPersonalData(policy.GetPurpose(DisclosurePolicy.PurposeIds.VimeoLessonRecording));
        var granted = await vimeo.GrantedScopesAsync(context, cancellationToken);
        var missing = VimeoScopes.Required.Keys.Where(s => !granted.Contains(s)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw new VimeoScopesMissingException(missing);
        }

        state.Verified = true;
    }

    /// <summary>Vimeo refused an operation with 403 (how it answers a token lacking a scope): the next run asks for the token's scopes again.</summary>
    public void Forget() => state.Verified = false;
}

/// <summary>Checks the Vimeo token's scopes when the app starts, so a wrong token is an error in the first minute, not at the first recording.</summary>
public sealed class VimeoScopeStartupCheck(VimeoScopeCheck check, ILogger<VimeoScopeStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await check.EnsureAsync(cancellationToken);
            logger.LogInformation("Vimeo token has every scope the recording pipeline needs");
        }
        catch (VimeoScopesMissingException ex)
        {
            // The rest of the app (meetings, calendars, newsletter) keeps running; recordings wait for a new token.
            logger.LogError("Vimeo token lacks scopes {MissingScopes}: recordings will wait until it is replaced", string.Join(' ', ex.Missing));
        }
        catch (Exception ex) when (ex is HttpRequestException or VimeoApiException or TaskCanceledException)
        {
            logger.LogWarning("Vimeo token scopes could not be checked at start ({Error}); the first recording checks again", ex.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
