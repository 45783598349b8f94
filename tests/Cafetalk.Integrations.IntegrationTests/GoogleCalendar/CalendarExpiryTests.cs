using System.Net;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.GoogleCalendar;

/// <summary>Expired tickets and states on a server whose clock the test moves.</summary>
public sealed class CalendarExpiryTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(TimeProvider.System.GetUtcNow());
    private CalendarHarness _harness = null!;

    public async Task InitializeAsync() => _harness = await CalendarHarness.StartAsync(fixture, services => services.AddSingleton<TimeProvider>(_time));

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task StateUsedAfterItsTenMinutes_IsRefused_NothingExchangedOrStored()
    {
        var (start, cookie) = await _harness.StartAsync(_harness.Ticket("lec_late"));
        var back = await _harness.DecideAsync(start.Headers.Location!, approve: true);
        _time.Advance(TimeSpan.FromMinutes(11));

        var (response, body) = await _harness.CallbackAsync(back, cookie);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("has expired", body, StringComparison.Ordinal);
        Assert.DoesNotContain(_harness.Google.Requests, r => r.IsToken);
        Assert.Null(await _harness.Services.GetRequiredService<CalendarConnections>().FindAsync("lec_late"));
    }

    [Fact]
    public async Task TicketOlderThanItsLifetime_ShowsInvalidLink()
    {
        var ticket = _harness.Ticket("lec_old_ticket");
        _time.Advance(TimeSpan.FromMinutes(10));

        var (response, cookie) = await _harness.StartAsync(ticket);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(cookie);
        Assert.Contains("有効期限が切れています", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
