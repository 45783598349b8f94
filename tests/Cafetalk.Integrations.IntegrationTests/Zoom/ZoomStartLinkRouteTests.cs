using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>
/// <c>POST /api/zoom/start-link/{lecturerId}/{bookingId}</c> as served: a fresh start link for a pool-hosted lesson
/// shortly before it, behind the function key and the site's key; never stored, no ledger row (only the meeting id goes out).
/// </summary>
public sealed class ZoomStartLinkRouteTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private string SiteKey => fixture.Sandbox.Settings()["Zoom:StartLinkSiteKey"]!;

    private async Task<string> LessonAsync(string lecturer, string booking, DateTimeOffset startsAt, bool ownHost = false)
    {
        await fixture.Storage.EnsureProvisionedAsync();
        foreach (var host in new[] { "start-pool-host-1", "start-pool-host-2", "start-pool-host-3" })
        {
            await fixture.Services.GetRequiredService<ZoomHostPool>().AddAsync(host, 1, null);
        }

        if (ownHost)
        {
            await fixture.Services.GetRequiredService<ZoomHostDirectory>().AssignAsync(lecturer, "start-own-user");
        }

        await fixture.Services.GetRequiredService<BookingEventIntake>().ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, startsAt, lecturerId: lecturer, durationMinutes: 25), null);
        var result = await fixture.Services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturer, booking);
        Assert.Equal(MeetingConvergence.Created, result.Outcome);
        return result.MeetingId!;
    }

    private async Task<HttpResponseMessage> PostAsync(string lecturer, string booking, string? siteKey, HttpContent? body = null, bool functionKey = true)
    {
        using var http = fixture.CreateClient();
        var url = $"api/zoom/start-link/{lecturer}/{booking}" + (functionKey ? $"?code={fixture.Server.FunctionKey}" : string.Empty);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = body };
        if (siteKey is not null)
        {
            request.Headers.Add(ZoomStartLinkFlow.SiteKeyHeader, siteKey);
        }

        return await http.SendAsync(request);
    }

    private async Task<long> LedgerRowsAsync()
    {
        var count = 0L;
        await foreach (var _ in fixture.Storage.Table(TableNames.DisclosureLedger).QueryAsync<TableEntity>(select: ["PartitionKey"]))
        {
            count++;
        }

        return count;
    }

    private static async Task<string> ProblemTypeAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("type").GetString()!;
    }

    [Fact]
    public async Task StartLink_TenMinutesBefore_FreshLinkEachCall_NotStored_NoLedgerRow()
    {
        var meetingId = await LessonAsync("lec_sl_1", "bk_sl_1", TimeProvider.System.GetUtcNow().AddMinutes(10));
        var ledgerBefore = await LedgerRowsAsync();
        fixture.Sandbox.Zoom.ClearRequests();

        using var first = await PostAsync("lec_sl_1", "bk_sl_1", SiteKey);
        using var second = await PostAsync("lec_sl_1", "bk_sl_1", SiteKey);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("no-store", first.Headers.CacheControl?.ToString());
        var links = new List<string>();
        foreach (var response in new[] { first, second })
        {
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            links.Add(json.RootElement.GetProperty("startUrl").GetString()!);
        }

        Assert.StartsWith(new Uri(fixture.Sandbox.Zoom.BaseAddress, $"s/{meetingId}?zak=").ToString(), links[0], StringComparison.Ordinal);
        Assert.NotEqual(links[0], links[1]);
        Assert.Equal([$"GET /v2/meetings/{meetingId}", $"GET /v2/meetings/{meetingId}"], fixture.Sandbox.Zoom.Requests.Where(r => r.IsApi).Select(r => $"{r.Method} {r.Path}"));
        Assert.Equal(ledgerBefore, await LedgerRowsAsync());
        var row = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>("lec_sl_1", "bk_sl_1")).Value;
        Assert.DoesNotContain(row, column => column.Value is string s && s.Contains("zak=", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartLink_WithoutTheSiteKey_401_EvenWithTheFunctionKey_AndNoZoomCall()
    {
        await LessonAsync("lec_sl_2", "bk_sl_2", TimeProvider.System.GetUtcNow().AddMinutes(5));
        fixture.Sandbox.Zoom.ClearRequests();

        using var none = await PostAsync("lec_sl_2", "bk_sl_2", null);
        using var wrong = await PostAsync("lec_sl_2", "bk_sl_2", SiteKey + "x");
        using var noFunctionKey = await PostAsync("lec_sl_2", "bk_sl_2", SiteKey, functionKey: false);

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(ZoomStartLinkFlow.ProblemTypeBase + "site-key", await ProblemTypeAsync(none));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, noFunctionKey.StatusCode);
        Assert.DoesNotContain(fixture.Sandbox.Zoom.Requests, r => r.IsApi);
    }

    [Fact]
    public async Task StartLink_TooEarly409_OwnHost409_Unknown404_BadId400_LargeBody413()
    {
        var soon = TimeProvider.System.GetUtcNow();
        await LessonAsync("lec_sl_3", "bk_sl_3", soon.AddHours(3));
        await LessonAsync("lec_sl_own", "bk_sl_own", soon.AddMinutes(5), ownHost: true);
        fixture.Sandbox.Zoom.ClearRequests();

        using var early = await PostAsync("lec_sl_3", "bk_sl_3", SiteKey);
        using var own = await PostAsync("lec_sl_own", "bk_sl_own", SiteKey);
        using var unknown = await PostAsync("lec_sl_3", "bk_nope", SiteKey);
        using var bad = await PostAsync("lec_sl_3", "bk%20x", SiteKey);
        using var large = await PostAsync("lec_sl_3", "bk_sl_3", SiteKey, new StringContent(new string('x', ZoomStartLinkFlow.MaxBodyBytes + 1), Encoding.UTF8));

        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Equal(ZoomStartLinkFlow.ProblemTypeBase + "too-early", await ProblemTypeAsync(early));
        Assert.Equal(HttpStatusCode.Conflict, own.StatusCode);
        Assert.Equal(ZoomStartLinkFlow.ProblemTypeBase + "own-host", await ProblemTypeAsync(own));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.DoesNotContain(fixture.Sandbox.Zoom.Requests, r => r.IsApi);
    }
}
