using System.Net;
using Cafetalk.Integrations.Zoom;
using Polly;

namespace Cafetalk.Integrations.Tests.Zoom;

public sealed class ZoomDailyLimitTests
{
    [Theory]
    [InlineData("2026-03-01T23:59:59Z", "2026-03-02T00:00:00Z")]
    [InlineData("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")]
    [InlineData("2026-12-31T12:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("2028-02-28T18:00:00Z", "2028-02-29T00:00:00Z")]
    // 08:30 in Tokyo on the 2nd is still the 1st in UTC: the reset follows UTC, not the caller's offset.
    [InlineData("2026-03-02T08:30:00+09:00", "2026-03-02T00:00:00Z")]
    public void NextResetUtc_IsTheNextUtcMidnight(string now, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), ZoomDailyLimit.NextResetUtc(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero));

    [Fact]
    public void NextResetUtc_AddsTheMargin() =>
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 0, 1, 0, TimeSpan.Zero), ZoomDailyLimit.NextResetUtc(new DateTimeOffset(2026, 3, 1, 15, 0, 0, TimeSpan.Zero), TimeSpan.FromMinutes(1)));

    [Fact]
    public void DayKey_UsesTheUtcDay() =>
        Assert.Equal("20260301", ZoomDailyLimit.DayKey(new DateTimeOffset(2026, 3, 2, 8, 30, 0, TimeSpan.FromHours(9))));

    [Theory]
    [InlineData("GET", HttpStatusCode.InternalServerError, null, true)]
    [InlineData("PATCH", HttpStatusCode.ServiceUnavailable, null, true)]
    [InlineData("DELETE", HttpStatusCode.BadGateway, null, true)]
    [InlineData("POST", HttpStatusCode.InternalServerError, null, false)]
    [InlineData("POST", HttpStatusCode.TooManyRequests, "QPS", true)]
    [InlineData("POST", HttpStatusCode.TooManyRequests, null, true)]
    [InlineData("POST", HttpStatusCode.TooManyRequests, "Daily-limit", false)]
    [InlineData("PATCH", HttpStatusCode.TooManyRequests, "Daily-limit", false)]
    [InlineData("GET", HttpStatusCode.NotFound, null, false)]
    [InlineData("PATCH", HttpStatusCode.BadRequest, null, false)]
    public async Task ShouldRetry_FollowsStatusMethodAndLimitType(string method, HttpStatusCode status, string? rateLimitType, bool expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "https://api.zoom.test/v2/meetings/1");
        using var response = new HttpResponseMessage(status) { RequestMessage = request };
        if (rateLimitType is not null)
        {
            response.Headers.Add(ZoomClient.RateLimitTypeHeader, rateLimitType);
        }

        var context = ResilienceContextPool.Shared.Get();
        try
        {
            Assert.Equal(expected, await ZoomServiceCollectionExtensions.ShouldRetryAsync(Outcome.FromResult(response), context));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Zoom's daily-limit answer as Zoom staff quoted it: the body alone, no X-RateLimit-Type, no Retry-After.
    private const string DailyLimitBody = """{"code":429,"message":"You have exceeded the daily rate limit (100) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00."}""";

    [Theory]
    [InlineData("POST", DailyLimitBody, false)]
    [InlineData("PATCH", DailyLimitBody, false)]
    [InlineData("POST", """{"code":429,"message":"You have reached the maximum per-second rate limit for this API. Try again later."}""", true)]
    [InlineData("POST", "not json", true)]
    public async Task ShouldRetry_DailyLimitKnownByItsBodyWithoutTheHeader_IsNotRetried(string method, string body, bool expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "https://api.zoom.test/v2/meetings/1");
        using var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests) { RequestMessage = request, Content = new StringContent(body) };
        var context = ResilienceContextPool.Shared.Get();
        try
        {
            Assert.Equal(expected, await ZoomServiceCollectionExtensions.ShouldRetryAsync(Outcome.FromResult(response), context));
            Assert.Equal(body, await response.Content.ReadAsStringAsync());
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    [Fact]
    public async Task ShouldRetry_TimeoutOnCreate_IsNotRetried()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://api.zoom.test/v2/users/h/meetings");
        var context = ResilienceContextPool.Shared.Get();
        context.SetRequestMessage(request);
        try
        {
            Assert.False(await ZoomServiceCollectionExtensions.ShouldRetryAsync(Outcome.FromException<HttpResponseMessage>(new Polly.Timeout.TimeoutRejectedException()), context));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }
}
