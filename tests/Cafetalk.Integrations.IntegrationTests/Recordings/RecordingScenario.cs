using System.Globalization;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Recordings;

/// <summary>A booked, held and recorded lesson on the Sandbox: the booking row, its Zoom meeting and the recording.completed message.</summary>
internal sealed class RecordingScenario(SandboxFixture fixture, ServiceProvider services)
{
    public static readonly DateTimeOffset LessonStart = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddHours(-14);

    /// <summary>Chunks small enough that the Sandbox's 256 KiB recording goes in four PATCHes.</summary>
    public const int ChunkBytes = 64 * 1024;

    public static ServiceProvider Services(SandboxFixture fixture, CapturedLogs logs, TimeProvider? time = null, Action<VimeoOptions>? configure = null) => fixture.CreateServices(time, s =>
    {
        s.AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        s.Configure<VimeoOptions>(o =>
        {
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.RetryMaxDelay = TimeSpan.FromSeconds(3);
            o.UploadChunkBytes = ChunkBytes;
            configure?.Invoke(o);
        });
    });

    public static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Books, converges the Zoom meeting (cloud recording only with both consents) and returns the meeting id.</summary>
    public async Task<long> BookAsync(string lecturerId, string studentId, string bookingId, bool consentLecturer = true, bool consentStudent = true)
    {
        var intake = await services.GetRequiredService<BookingEventIntake>().ProcessAsync(SampleEvents.Booking(
            EventTypes.BookingConfirmed, bookingId, 1, LessonStart, lecturerId, studentId, consentLecturer: consentLecturer, consentStudent: consentStudent), null);
        Assert.Equal(IntakeDisposition.Applied, intake.Disposition);
        var meeting = await services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturerId, bookingId);
        return long.Parse(meeting.MeetingId!, CultureInfo.InvariantCulture);
    }

    /// <summary>The zoom-events message the webhook enqueues for Zoom's recording.completed of this meeting.</summary>
    public string RecordingCompleted(long meetingId, DateTimeOffset? sentAt = null)
    {
        var body = fixture.Sandbox.Zoom.RecordingCompletedBody(meetingId, "sandbox-host-default", sentAt);
        return ZoomWebhookHandler.Minimised(ZoomWebhookHandler.RecordingCompletedEvent, (JsonObject)JsonNode.Parse(body)!, out _);
    }

    public Task<RecordingResult?> HandleAsync(string message, string? messageId = null, CancellationToken cancellationToken = default) =>
        services.GetRequiredService<RecordingEventsHandler>().HandleAsync(message, messageId, cancellationToken);

    public async Task<TableEntity> RowAsync(string lecturerId, string bookingId) =>
        (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturerId, bookingId)).Value;

    public async Task<IReadOnlyList<LedgerEntry>> ChainAsync(string memberId)
    {
        var subject = await services.GetRequiredService<SubjectRegistry>().FindAsync(memberId);
        return subject is null ? [] : await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subject);
    }

    public string BookingReference(string bookingId) => services.GetRequiredService<RecordingReferences>().ForBooking(bookingId);

    public string LecturerReference(string lecturerId) => services.GetRequiredService<RecordingReferences>().ForLecturer(lecturerId);
}
