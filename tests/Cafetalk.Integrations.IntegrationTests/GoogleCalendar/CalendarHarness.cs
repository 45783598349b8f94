using System.Net;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Google;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>
/// The HTTP functions on a local server against the Sandbox, a client that plays the lecturer's browser without a
/// browser (cookies by hand: .NET will not send a Secure cookie over http), and helpers to drain calendar-converge.
/// </summary>
internal sealed class CalendarHarness : IAsyncDisposable
{
    private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

    private CalendarHarness(SandboxFixture fixture, LocalFunctionsServer server)
    {
        Fixture = fixture;
        Server = server;
    }

    public SandboxFixture Fixture { get; }

    public LocalFunctionsServer Server { get; }

    public GoogleSimulator Google => Fixture.Sandbox.Google;

    public IServiceProvider Services => Server.Services;

    /// <summary>
    /// Starts the server. Most calendar tests run without the Zoom converger, so a new booking's event does not wait
    /// for a join link unless <paramref name="joinLinkWait"/> says so.
    /// </summary>
    /// <remarks><paramref name="push"/> points Google's watch channels at this server's notification route.</remarks>
    public static async Task<CalendarHarness> StartAsync(SandboxFixture fixture, Action<IServiceCollection>? configure = null, TimeSpan? joinLinkWait = null, bool push = false)
    {
        var server = await LocalFunctionsServer.StartAsync(baseUrl =>
        {
            fixture.Sandbox.PublicBaseUrl = baseUrl;
            var settings = new Dictionary<string, string?>(fixture.Sandbox.Settings());
            if (push)
            {
                settings["GoogleCalendar:NotificationAddress"] = new Uri(baseUrl, "api/" + CalendarNotifications.Route).ToString();
            }

            return settings;
        }, configure: services =>
        {
            // Backoff in milliseconds, so throttling tests take no real time.
            services.Configure<GoogleCalendarOptions>(o => (o.RetryBaseDelay, o.RetryMaxDelay, o.JoinLinkWait) = (TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50), joinLinkWait ?? TimeSpan.Zero));
            configure?.Invoke(services);
        });
        await fixture.Storage.EnsureProvisionedAsync();
        LogCapture.Plant("function-key", server.FunctionKey);
        return new CalendarHarness(fixture, server);
    }

    public string Ticket(string lecturerId) => Services.GetRequiredService<ConnectTickets>().Issue(lecturerId);

    public Uri ConnectLink(string lecturerId) => new(Server.BaseUrl, $"api/calendar/connect?ticket={Uri.EscapeDataString(Ticket(lecturerId))}");

    /// <summary>GET connect: the redirect to Google and the state cookie (name=value), if any.</summary>
    public async Task<(HttpResponseMessage Response, string? Cookie)> StartAsync(string ticket)
    {
        var response = await _http.GetAsync(new Uri(Server.BaseUrl, $"api/calendar/connect?ticket={Uri.EscapeDataString(ticket)}"));
        var cookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.First().Split(';')[0] : null;
        LogCapture.Plant("state-cookie", cookie?.Split('=', 2)[1]);
        return (response, cookie);
    }

    /// <summary>At the simulated Google: shows the consent page, then presses approve or deny; returns where Google sends the browser back.</summary>
    public async Task<Uri> DecideAsync(Uri authorizationUrl, bool approve)
    {
        using var page = await _http.GetAsync(authorizationUrl);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var query = QueryHelpers.ParseQuery(authorizationUrl.Query);
        var form = new[] { "redirect_uri", "state", "scope", "code_challenge", "access_type" }
            .ToDictionary(k => k, k => query[k].ToString());
        form["decision"] = approve ? "approve" : "deny";
        using var decided = await _http.PostAsync(new Uri(Google.BaseAddress, "o/oauth2/v2/auth/decision"), new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Found, decided.StatusCode);
        return decided.Headers.Location!;
    }

    public async Task<(HttpResponseMessage Response, string Body)> CallbackAsync(Uri callback, string? cookie, string language = "en")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, callback);
        request.Headers.AcceptLanguage.ParseAdd(language);
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        var response = await _http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The whole consent, approved; returns the callback page.</summary>
    public async Task<(HttpResponseMessage Response, string Body)> ConnectAsync(string lecturerId, bool approve = true)
    {
        var (start, cookie) = await StartAsync(Ticket(lecturerId));
        Assert.Equal(HttpStatusCode.Redirect, start.StatusCode);
        var back = await DecideAsync(start.Headers.Location!, approve);
        return await CallbackAsync(back, cookie);
    }

    public async Task<HttpResponseMessage> DisconnectAsync(string lecturerId, bool withKey = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Server.BaseUrl, "api/calendar/disconnect"))
        {
            Content = new StringContent($$"""{"lecturerId":"{{lecturerId}}"}""", System.Text.Encoding.UTF8, "application/json"),
        };
        if (withKey)
        {
            request.Headers.Add("x-functions-key", Server.FunctionKey);
        }

        return await _http.SendAsync(request);
    }

    public async Task IngestAsync(string type, string bookingId, long version, DateTimeOffset startsAt, string lecturerId, string studentId = "stu_cal")
    {
        var outcome = await Services.GetRequiredService<BookingEventIntake>()
            .ProcessAsync(SampleEvents.Booking(type, bookingId, version, startsAt, lecturerId: lecturerId, studentId: studentId), null);
        Assert.NotEqual(IntakeDisposition.Rejected, outcome.Disposition);
    }

    /// <summary>Runs the calendar-converge handler over every waiting message, as the host would; returns the results.</summary>
    public async Task<List<EventConvergeResult?>> DrainCalendarQueueAsync()
    {
        var queue = Fixture.Storage.Queue(QueueNames.CalendarConverge);
        var handler = Services.GetRequiredService<CalendarConvergeHandler>();
        var results = new List<EventConvergeResult?>();
        while (true)
        {
            var batch = (await queue.ReceiveMessagesAsync(32)).Value;
            if (batch.Length == 0)
            {
                return results;
            }

            foreach (var message in batch)
            {
                results.Add(await handler.HandleAsync(message.Body.ToString(), message.MessageId));
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>Empties the converge queues, so a test sees only its own messages.</summary>
    public async Task ClearQueuesAsync()
    {
        foreach (var name in QueueNames.ConvergeQueues.Append(QueueNames.SiteNotifications))
        {
            await Fixture.Storage.Queue(name).ClearMessagesAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Server.DisposeAsync();
    }
}
