using System.Net;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Security;

/// <summary>
/// Attacks on the Google Calendar connect callback that CalendarConnectFlowTests does not already make: a tampered
/// state or cookie, a cookie without a state, and login CSRF (an attacker's own callback opened in a lecturer's browser).
/// Each is refused with the "could not be completed" page, exchanges no code at Google and connects nobody.
/// </summary>
public sealed class OAuthAttackTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private const string Refused = "The connection could not be completed";
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await CalendarHarness.StartAsync(fixture);

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private int CodeExchanges => _harness.Google.Requests.Count(r => r.IsToken && r.Body.Contains("grant_type=authorization_code", StringComparison.Ordinal));

    private Task<CalendarConnection?> ConnectionOf(string lecturerId) => _harness.Services.GetRequiredService<CalendarConnections>().FindAsync(lecturerId);

    /// <summary>Google's redirect back, with the state replaced.</summary>
    private static Uri WithState(Uri callback, string? state)
    {
        var query = QueryHelpers.ParseQuery(callback.Query).ToDictionary(p => p.Key, p => (string?)p.Value.ToString());
        if (state is null)
        {
            query.Remove("state");
        }
        else
        {
            query["state"] = state;
        }

        return new Uri(QueryHelpers.AddQueryString(callback.GetLeftPart(UriPartial.Path), query));
    }

    private static string Flip(string value, int at) => value[..at] + (value[at] == 'A' ? 'B' : 'A') + value[(at + 1)..];

    [Theory]
    [InlineData("state-one-character-changed")]
    [InlineData("state-truncated")]
    [InlineData("state-extended")]
    [InlineData("state-overlong")]
    [InlineData("state-not-url-safe")]
    [InlineData("state-missing")]
    [InlineData("cookie-one-character-changed")]
    public async Task TamperedStateOrCookie_IsRefused_ExchangesNothing_AndTheGenuineCallbackStillWorks(string tamper)
    {
        var lecturer = $"lec_{tamper.Replace('-', '_')}";
        var (start, cookie) = await _harness.StartAsync(_harness.Ticket(lecturer));
        var back = await _harness.DecideAsync(start.Headers.Location!, approve: true);
        var state = QueryHelpers.ParseQuery(back.Query)["state"].ToString();
        var (url, sentCookie) = tamper switch
        {
            "state-one-character-changed" => (WithState(back, Flip(state, state.Length / 2)), cookie),
            "state-truncated" => (WithState(back, state[..^1]), cookie),
            "state-extended" => (WithState(back, state + "A"), cookie),
            "state-overlong" => (WithState(back, state + new string('A', 64)), cookie),
            "state-not-url-safe" => (WithState(back, state[..^1] + "."), cookie),
            "state-missing" => (WithState(back, null), cookie),
            _ => (back, Flip(cookie!, cookie!.Length - 5)),
        };
        var before = CodeExchanges;

        var (refused, body) = await _harness.CallbackAsync(url, sentCookie);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(Refused, body, StringComparison.Ordinal);
        Assert.Equal(before, CodeExchanges);
        Assert.Null(await ConnectionOf(lecturer));
        if (tamper.StartsWith("state-", StringComparison.Ordinal))
        {
            // A forged state does not spend the genuine one: the lecturer can still finish.
            var (genuine, _) = await _harness.CallbackAsync(back, cookie);
            Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
            Assert.NotNull(await ConnectionOf(lecturer));
        }
    }

    [Fact]
    public async Task LoginCsrf_AttackersCallbackOpenedInALecturersBrowser_IsRefused_AndConnectsNobody()
    {
        // The attacker starts a connection with their own ticket and approves at Google with their own account...
        var (attackerStart, _) = await _harness.StartAsync(_harness.Ticket("lec_csrf_attacker"));
        var attackersCallback = await _harness.DecideAsync(attackerStart.Headers.Location!, approve: true);
        // ...while the lecturer's browser holds the cookie of a connection the lecturer started.
        var (_, lecturersCookie) = await _harness.StartAsync(_harness.Ticket("lec_csrf_victim"));
        var before = CodeExchanges;

        var (withTheirCookie, body) = await _harness.CallbackAsync(attackersCallback, lecturersCookie);
        var (withNoCookie, _) = await _harness.CallbackAsync(attackersCallback, null);

        Assert.Equal(HttpStatusCode.BadRequest, withTheirCookie.StatusCode);
        Assert.Contains(Refused, body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, withNoCookie.StatusCode);
        Assert.Equal(before, CodeExchanges);
        Assert.Null(await ConnectionOf("lec_csrf_attacker"));
        Assert.Null(await ConnectionOf("lec_csrf_victim"));
    }

    [Fact]
    public async Task AttackersCallbackTriedInAnotherBrowser_SpendsTheirState_SoTheyCannotFinishEither()
    {
        var (start, attackersCookie) = await _harness.StartAsync(_harness.Ticket("lec_csrf_spent"));
        var callback = await _harness.DecideAsync(start.Headers.Location!, approve: true);

        var (elsewhere, _) = await _harness.CallbackAsync(callback, null);
        var (ownBrowserLater, _) = await _harness.CallbackAsync(callback, attackersCookie);

        Assert.Equal(HttpStatusCode.BadRequest, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, ownBrowserLater.StatusCode);
        Assert.Null(await ConnectionOf("lec_csrf_spent"));
    }
}
