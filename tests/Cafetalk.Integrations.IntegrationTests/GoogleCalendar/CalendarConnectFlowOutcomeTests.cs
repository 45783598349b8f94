using System.Text;
using System.Text.Json;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.IntegrationTests.Newsletter;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>
/// <see cref="CalendarConnectFlow"/>, <see cref="CalendarCallbackFlow"/> and <see cref="CalendarDisconnectFlow"/> called directly, without HTTP, against Azurite and the Google simulator: the
/// outcome for each input (page, redirect, refusal, answer) and the state cookie it sets or expires.
/// </summary>
public sealed class CalendarConnectFlowOutcomeTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync()
    {
        _harness = await CalendarHarness.StartAsync(fixture);
        await _harness.ClearQueuesAsync();
        _harness.Google.GrantedScopeOverride = null;
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    private CalendarConnectFlow Flow => _harness.Services.GetRequiredService<CalendarConnectFlow>();

    private CalendarCallbackFlow Callback => _harness.Services.GetRequiredService<CalendarCallbackFlow>();

    private CalendarDisconnectFlow Disconnect => _harness.Services.GetRequiredService<CalendarDisconnectFlow>();

    private GoogleCalendarOptions Options => _harness.Services.GetRequiredService<IOptions<GoogleCalendarOptions>>().Value;

    [Fact]
    public async Task Connect_WithoutAGenuineTicket_IsTheInvalidLinkPage_AndSetsNoCookie()
    {
        var page = Assert.IsType<FlowOutcome.Page>(await Flow.ConnectAsync("forged", "en"));

        Assert.Equal((400, null, null), (page.Status, page.Cookie, page.FormAction));
    }

    [Fact]
    public async Task Connect_WithATicket_RedirectsToGoogle_WithAFreshStateCookieForTheStateLifetime()
    {
        var redirect = Assert.IsType<FlowOutcome.Redirect>(await Flow.ConnectAsync(_harness.Ticket("lec_flow_redirect"), "en"));

        Assert.Equal(302, redirect.Status);
        Assert.StartsWith($"{_harness.Google.BaseAddress}o/oauth2/v2/auth?", redirect.To.ToString(), StringComparison.Ordinal);
        Assert.Equal((Options.StateCookieName, 43, Options.StateLifetime), (redirect.Cookie!.Name, redirect.Cookie.Value!.Length, redirect.Cookie.MaxAge));
    }

    [Fact]
    public async Task Callback_ExpiresTheStateCookieWhateverHappens_AndAStateWithTheWrongCookieIsSpent()
    {
        var redirect = Assert.IsType<FlowOutcome.Redirect>(await Flow.ConnectAsync(_harness.Ticket("lec_flow_cookie"), "en"));
        var state = QueryHelpers.ParseQuery(redirect.To.Query)["state"].ToString();

        var badState = Assert.IsType<FlowOutcome.Page>(await Callback.CallbackAsync(redirect.Cookie!.Value, "not a state!", "", "code", "en"));
        var wrongCookie = Assert.IsType<FlowOutcome.Page>(await Callback.CallbackAsync("another-browser", state, "", "code", "en"));
        var rightCookieTooLate = Assert.IsType<FlowOutcome.Page>(await Callback.CallbackAsync(redirect.Cookie.Value, state, "", "code", "en"));

        foreach (var page in new[] { badState, wrongCookie, rightCookieTooLate })
        {
            Assert.Equal(400, page.Status);
            Assert.Equal((Options.StateCookieName, null), (page.Cookie!.Name, page.Cookie.Value));
        }

        Assert.Equal(0, _harness.Google.Requests.Count(r => r.IsToken));
    }

    [Fact]
    public async Task Callback_TheLecturerDeclines_IsTheDeclinedPage200_AndNoCodeIsExchanged()
    {
        var redirect = Assert.IsType<FlowOutcome.Redirect>(await Flow.ConnectAsync(_harness.Ticket("lec_flow_deny"), "en"));
        var state = QueryHelpers.ParseQuery(redirect.To.Query)["state"].ToString();

        var page = Assert.IsType<FlowOutcome.Page>(await Callback.CallbackAsync(redirect.Cookie!.Value, state, "access_denied", "", "en"));

        Assert.Equal(200, page.Status);
        Assert.Null(await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync("lec_flow_deny"));
        Assert.Equal(0, _harness.Google.Requests.Count(r => r.IsToken));
    }

    [Fact]
    public async Task Replacing_AsksOnAPageWhoseFormMayPostToUsAndGoogle_ThenOnlyOurOwnPagesConfirmationRedirectsWith303()
    {
        const string lecturer = "lec_flow_replace";
        var (connected, _) = await _harness.ConnectAsync(lecturer);
        Assert.Equal(System.Net.HttpStatusCode.OK, connected.StatusCode);
        var ticket = _harness.Ticket(lecturer);

        var confirmPage = Assert.IsType<FlowOutcome.Page>(await Flow.ConnectAsync(ticket, "en"));
        Assert.Equal((200, null), (confirmPage.Status, confirmPage.Cookie));
        Assert.Equal($"'self' {Options.AuthorizationEndpoint.GetLeftPart(UriPartial.Authority)}", confirmPage.FormAction);
        var form = PostedForm.Of(new Dictionary<string, string> { ["ticket"] = ticket, ["confirm"] = ResubscribeButton.ConfirmToken(confirmPage.Html)! });

        var tooLarge = Assert.IsType<FlowOutcome.Refused>(await Flow.ConfirmReplaceAsync(PostedForm.Failed(PostedFormOutcome.TooLarge), fromOurOwnPage: true, "en"));
        var notAForm = Assert.IsType<FlowOutcome.Page>(await Flow.ConfirmReplaceAsync(PostedForm.Failed(PostedFormOutcome.NotAForm), fromOurOwnPage: true, "en"));
        var crossSite = Assert.IsType<FlowOutcome.Page>(await Flow.ConfirmReplaceAsync(form, fromOurOwnPage: false, "en"));
        Assert.Equal((413, "https://cafetalk.com/problems/calendar/too-large"), (tooLarge.Status, tooLarge.Problem.Type));
        Assert.Equal((415, 403), (notAForm.Status, crossSite.Status));

        var confirmed = Assert.IsType<FlowOutcome.Redirect>(await Flow.ConfirmReplaceAsync(form, fromOurOwnPage: true, "en"));
        var replayed = Assert.IsType<FlowOutcome.Page>(await Flow.ConfirmReplaceAsync(form, fromOurOwnPage: true, "en"));

        Assert.Equal(303, confirmed.Status);
        Assert.Equal(Options.StateCookieName, confirmed.Cookie!.Name);
        Assert.Equal(403, replayed.Status);
    }

    [Fact]
    public async Task Disconnect_NotJson_Is400BadBody_AndALecturerWithoutConnection_IsAnsweredNotConnected()
    {
        var bad = Assert.IsType<FlowOutcome.Refused>(await Disconnect.DisconnectAsync(BodyRead.Of("lecturerId=lec_1"u8)));
        var tooLarge = Assert.IsType<FlowOutcome.Refused>(await Disconnect.DisconnectAsync(new BodyRead(BodyReadOutcome.TooLarge, default)));
        var none = Assert.IsType<FlowOutcome.Answer>(await Disconnect.DisconnectAsync(BodyRead.Of(Encoding.UTF8.GetBytes("\uFEFF{\"lecturerId\":\"lec_flow_none\"}"))));

        Assert.Equal((400, "https://cafetalk.com/problems/calendar/bad-body"), (bad.Status, bad.Problem.Type));
        Assert.Equal((413, "https://cafetalk.com/problems/calendar/too-large"), (tooLarge.Status, tooLarge.Problem.Type));
        Assert.Equal((200, "{\"status\":\"not-connected\"}"), (none.Status, JsonSerializer.Serialize(none.Body)));
    }
}
