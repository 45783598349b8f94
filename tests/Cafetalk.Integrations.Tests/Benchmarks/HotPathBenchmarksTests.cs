using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Cafetalk.Integrations.Benchmarks;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Zoom;

namespace Cafetalk.Integrations.Tests.Benchmarks;

/// <summary>
/// Runs every benchmark once after its GlobalSetup and checks it measures the path its name says: a benchmark that
/// silently measured an exception, a refusal or nothing would make docs/performance.md wrong.
/// </summary>
public sealed class HotPathBenchmarksTests
{
    [Fact]
    public void Confirmed_IsTheBookingWithEveryPersonalFieldDropped()
    {
        var bench = Setup(new BookingEventParseBenchmarks());

        var result = bench.Confirmed();

        Assert.Null(result.Rejection);
        Assert.NotNull(result.Booking);
        Assert.Equal((BookingEventParseBenchmarks.BookingId, 1L, "lec_4412", "stu_90311", "Europe/Berlin", 50),
            (result.Booking.BookingId, result.Booking.Version, result.Booking.LecturerId, result.Booking.StudentId, result.Booking.LecturerTimeZone, result.Booking.DurationMinutes));
        // The input is what the booking system sends; the parsed event keeps none of it.
        var sentValues = JsonNode.Parse(bench.ConfirmedEvent)!["data"]!.AsObject().Select(p => p.Value?.ToString()).ToList();
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.Contains(value, sentValues));
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.DoesNotContain(value, result.Booking.ToString(), StringComparison.Ordinal));
    }

    [Fact]
    public void RejectedUnknownTimeZone_IsRefusedForTheTimeZone() =>
        Assert.Equal(RejectionReasons.UnknownTimeZone, Setup(new BookingEventParseBenchmarks()).RejectedUnknownTimeZone().Rejection?.Reason);

    [Fact]
    public void RejectedNotJson_IsRefusedAsNotJson() =>
        Assert.Equal(RejectionReasons.NotJson, Setup(new BookingEventParseBenchmarks()).RejectedNotJson().Rejection?.Reason);

    [Fact]
    public async Task CreateMeetingWithoutGate_ReachesZoomWithoutTheGateRunning()
    {
        var bench = Setup(new DisclosureGateBenchmarks());

        Assert.Equal(HttpStatusCode.Created, await bench.CreateMeetingWithoutGate());
        Assert.Equal(1, bench.RequestsOnTheWire);
        Assert.Empty(bench.Context.SentFieldPaths);
        bench.Cleanup();
    }

    [Fact]
    public async Task CreateMeetingGateAllows_ChecksEveryMeetingFieldAndSendsIt()
    {
        var bench = Setup(new DisclosureGateBenchmarks());

        Assert.Equal(HttpStatusCode.Created, await bench.CreateMeetingGateAllows());
        Assert.Equal(1, bench.RequestsOnTheWire);
        Assert.Equal(["path:hostId", .. ZoomMeetingPayload.FieldNames], bench.Context.SentFieldPaths);
        bench.Cleanup();
    }

    [Fact]
    public async Task CreateMeetingGateRefusesUnlistedField_RefusesThatFieldAndSendsNothing()
    {
        var bench = Setup(new DisclosureGateBenchmarks());

        Assert.Equal(DisclosureGateBenchmarks.UnlistedField, await bench.CreateMeetingGateRefusesUnlistedField());
        Assert.Equal(0, bench.RequestsOnTheWire);
        bench.Cleanup();
    }

    [Fact]
    public void HashNewRow_IsSha256OfTheWholeRowsCanonicalEncoding()
    {
        var bench = Setup(new LedgerRowHashBenchmarks());
        var encoding = LedgerRow.CanonicalEncoding(LedgerRow.ToEntity(bench.Row));

        var hash = bench.HashNewRow();

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(encoding))), hash);
        Assert.Contains("\"path:hostId,start_time,duration,timezone,agenda\"", encoding, StringComparison.Ordinal);
        Assert.Contains($"\"{bench.Row.PrevHash}\"", encoding, StringComparison.Ordinal);
    }

    [Fact]
    public void RehashStoredRow_EqualsTheHashTheRowWasAppendedWith()
    {
        var bench = Setup(new LedgerRowHashBenchmarks());

        Assert.Equal(bench.HashNewRow(), bench.RehashStoredRow());
        Assert.Equal(bench.StoredRow.GetString(LedgerRow.Hash), bench.RehashStoredRow());
    }

    [Fact]
    public void UnsubscribeTokenValid_NamesTheSubjectAndList()
    {
        var bench = Setup(new TokenVerifyBenchmarks());

        var target = bench.UnsubscribeTokenValid();

        Assert.Equal((bench.SubjectRef, TokenVerifyBenchmarks.NewsletterList, "k2"), (target?.Reference, target?.List, target?.KeyId));
    }

    [Fact]
    public void UnsubscribeTokenTampered_IsRejected()
    {
        var bench = Setup(new TokenVerifyBenchmarks());

        Assert.NotEqual(bench.UnsubscribeToken, bench.TamperedUnsubscribeToken);
        Assert.Equal(bench.UnsubscribeToken.Length, bench.TamperedUnsubscribeToken.Length);
        Assert.Null(bench.UnsubscribeTokenTampered());
    }

    [Fact]
    public void ConnectTicketValid_NamesTheLecturer() =>
        Assert.Equal(TokenVerifyBenchmarks.Lecturer, Setup(new TokenVerifyBenchmarks()).ConnectTicketValid());

    [Fact]
    public void ZoomWebhookValid_AcceptsTheSignatureOverAbout2KiB()
    {
        var bench = Setup(new TokenVerifyBenchmarks());

        Assert.Equal(ZoomSignatureCheck.Valid, bench.ZoomWebhookValid());
        Assert.InRange(bench.WebhookBody.Length, 1_800, 2_600);
    }

    [Fact]
    public void ZoomWebhookForged_IsBadSignature() =>
        Assert.Equal(ZoomSignatureCheck.BadSignature, Setup(new TokenVerifyBenchmarks()).ZoomWebhookForged());

    [Fact]
    public void EveryBenchmark_HasATestAbove()
    {
        var benchmarks = typeof(BenchmarkClock).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null)
            .Select(m => m.Name)
            .ToList();
        var tests = typeof(HotPathBenchmarksTests).GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is not null).Select(m => m.Name).ToList();

        // Each test is named after the benchmark it runs, so a new benchmark without a check fails here.
        Assert.Equal(13, benchmarks.Count);
        Assert.All(benchmarks, name => Assert.Contains(tests, test => test.StartsWith(name + "_", StringComparison.Ordinal)));
    }

    private static T Setup<T>(T benchmark)
    {
        typeof(T).GetMethods().Single(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null).Invoke(benchmark, null);
        return benchmark;
    }
}
