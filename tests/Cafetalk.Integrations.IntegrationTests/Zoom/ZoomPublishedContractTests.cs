using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Sandbox.Contracts;
using Cafetalk.Integrations.Sandbox.Zoom;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Zoom;

/// <summary>
/// What Zoom's published material says and the simulator now enforces (Contracts/zoom.contract.json): tokens only in
/// the Authorization header, the documented time-zone list, and our client held to both.
/// </summary>
public sealed class ZoomPublishedContractTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IAsyncLifetime
{
    private static readonly DateTimeOffset Lesson = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(3).AddHours(9);

    private ZoomSimulator Zoom => fixture.Sandbox.Zoom;

    public async Task InitializeAsync()
    {
        await fixture.Storage.EnsureProvisionedAsync();
        Zoom.ClearRequests();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<string> TokenAsync(HttpClient http)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Zoom.BaseAddress, "oauth/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "account_credentials", ["account_id"] = ZoomSimulator.AccountId }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{ZoomSimulator.ClientId}:{ZoomSimulator.ClientSecret}")));
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("access_token").GetString()!;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> CreateAsync(HttpClient http, string token, string timeZone, string? query = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Zoom.BaseAddress, $"v2/users/{ZoomSimulator.DefaultHostUserId}/meetings{query}"))
        {
            Content = new StringContent($$"""{"topic":"Cafetalk lesson","type":2,"start_time":"2030-01-01T10:00:00Z","duration":25,"timezone":"{{timeZone}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task Simulator_TokenAlsoInTheQuery_IsRefusedAndCreatesNothing()
    {
        using var http = new HttpClient();
        var token = await TokenAsync(http);
        var before = Zoom.Meetings.Count;

        var (status, body) = await CreateAsync(http, token, "UTC", $"?access_token={Uri.EscapeDataString(token)}");
        var recorded = ContractViolations.TakeFrom(Zoom.BaseAddress);

        // Zoom's documented answer to a token in the URL (Access token change FAQ): 401, code 124.
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("124", body.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, body.ToString(), StringComparison.Ordinal);
        Assert.Equal(["zoom meetings.create: credential in query parameter 'access_token': tokens go in the Authorization header only"], recorded.Select(v => v.ToString()));
        Assert.Equal(before, Zoom.Meetings.Count);
    }

    [Theory]
    [InlineData("Asia/Manila")]
    [InlineData("Asia/Karachi")]
    [InlineData("Africa/Lagos")]
    [InlineData("Europe/Kyiv")]
    public async Task Simulator_TimeZoneNotOnZoomsList_IsRefused_AListedOneIsCreated(string timeZone)
    {
        using var http = new HttpClient();
        var token = await TokenAsync(http);
        var before = Zoom.Meetings.Count;

        var (status, _) = await CreateAsync(http, token, timeZone);
        var recorded = ContractViolations.TakeFrom(Zoom.BaseAddress);
        var (listed, _) = await CreateAsync(http, token, "Europe/Kiev");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var violation = Assert.Single(recorded).ToString();
        Assert.StartsWith("zoom meetings.create:", violation, StringComparison.Ordinal);
        Assert.Contains("'timezone'", violation, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, listed);
        Assert.Equal(before + 1, Zoom.Meetings.Count);
    }

    [Theory]
    [InlineData("Asia/Manila")]
    [InlineData("Asia/Karachi")]
    [InlineData("Africa/Lagos")]
    [InlineData("Europe/Kyiv")]
    public async Task Converge_LecturerInAZoneZoomDoesNotList_CreatesTheMeetingAtTheSameUtcStart(string timeZone)
    {
        await using var services = fixture.CreateServices();
        var (lecturer, booking) = ($"lec_tz_{timeZone.Replace('/', '_')}", $"bk_tz_{timeZone.Replace('/', '_')}");
        var intake = await services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer, timeZone: timeZone), null);
        Assert.NotEqual(IntakeDisposition.Rejected, intake.Disposition);

        var result = await services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturer, booking);

        Assert.Equal(MeetingConvergence.Created, result.Outcome);
        var create = Assert.Single(Zoom.Requests, r => r.IsCreate);
        Assert.Equal(201, create.Status);
        using var sent = JsonDocument.Parse(create.Body);
        Assert.Equal("UTC", sent.RootElement.GetProperty("timezone").GetString());
        Assert.Equal(ZoomMeetingPayload.FormatStartTime(Lesson), sent.RootElement.GetProperty("start_time").GetString());
        Assert.DoesNotContain(timeZone, create.Body, StringComparison.Ordinal);
        var row = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value;
        Assert.Equal(result.MeetingId, row.GetString("ZoomMeetingId"));

        // A second pass finds Zoom matching: the zone is not compared, so nothing is re-sent against the host's daily 100.
        Assert.Equal(MeetingConvergence.UpToDate, (await services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturer, booking)).Outcome);
        Assert.Single(Zoom.Requests, r => r.IsApi);
    }
}
