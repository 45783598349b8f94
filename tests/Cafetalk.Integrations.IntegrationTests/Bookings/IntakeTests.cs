using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Bookings;

/// <summary>Intake against a real Azurite: what the Bookings table, the poison queue and the logs hold.</summary>
public sealed class IntakeTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>, IDisposable
{
    private static readonly DateTimeOffset Lesson = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(10).AddHours(10);
    private readonly CapturedLogs _logs = new();
    private ServiceProvider? _services;

    private ServiceProvider Services => _services ??= fixture.CreateServices(configure: s => s.AddLogging(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace)));

    private BookingEventIntake Intake => Services.GetRequiredService<BookingEventIntake>();

    private static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 17, 64)];

    public void Dispose() => _services?.Dispose();

    private async Task<TableEntity?> RowAsync(string lecturerId, string bookingId)
    {
        var row = await fixture.Storage.Table(TableNames.Bookings).GetEntityIfExistsAsync<TableEntity>(lecturerId, bookingId);
        return row.HasValue ? row.Value : null;
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private async Task<List<PoisonEnvelope>> PoisonedAsync()
    {
        var queue = fixture.Storage.Queue(QueueNames.BookingEventsPoison);
        var peeked = await queue.PeekMessagesAsync(32);
        return peeked.Value.Select(m => PoisonEnvelope.TryParse(m.Body.ToString())!).ToList();
    }

    [Fact]
    public async Task Intake_ValidConfirm_StoresTheContractFieldsAndNoPersonalValue()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer, consentStudent: false);

        var outcome = await Intake.ProcessAsync(message, "msg-1");

        Assert.Equal(IntakeDisposition.Applied, outcome.Disposition);
        var row = Assert.IsType<TableEntity>(await RowAsync(lecturer, booking));
        Assert.Equal(1L, row.GetInt64("Version"));
        Assert.Equal("Confirmed", row.GetString("Status"));
        Assert.Equal(Lesson, row.GetDateTimeOffset("StartsAtUtc"));
        Assert.Equal(50, row.GetInt32("DurationMinutes"));
        Assert.Equal("Europe/Berlin", row.GetString("LecturerTimeZone"));
        Assert.True(row.GetBoolean("RecordingConsentLecturer"));
        Assert.False(row.GetBoolean("RecordingConsentStudent"));
        var stored = string.Join("|", row.Select(pair => $"{pair.Key}={pair.Value}"));
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.DoesNotContain(value, stored, StringComparison.Ordinal));
        Assert.DoesNotContain("Business German", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Intake_SameEventDeliveredThreeTimes_AppliesOnceAndChangesNothingAfter()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer);

        var outcomes = new List<IntakeDisposition>();
        for (var i = 0; i < 3; i++)
        {
            outcomes.Add((await Intake.ProcessAsync(message, $"msg-{i}")).Disposition);
        }

        var etagAfterFirst = (await RowAsync(lecturer, booking))!.ETag;
        await Intake.ProcessAsync(message, "msg-4");
        Assert.Equal([IntakeDisposition.Applied, IntakeDisposition.Unchanged, IntakeDisposition.Unchanged], outcomes);
        Assert.Equal(etagAfterFirst, (await RowAsync(lecturer, booking))!.ETag);
    }

    [Fact]
    public async Task Intake_NewBooking_AsksTheMeetingConvergerAlone_ARescheduleAsksTheCalendarThroughIt_AnOlderEventAsksNothing()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var confirm = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer);

        // The calendar event holds the join link: the meeting converger asks the calendar converger once it exists.
        var created = await Intake.ProcessAsync(confirm, null);
        Assert.Equal([QueueNames.ZoomConverge], created.AskedQueues);
        var moved = await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingRescheduled, booking, 2, Lesson.AddHours(1), lecturerId: lecturer), null);
        Assert.Equal([QueueNames.ZoomConverge], moved.AskedQueues);
        var late = await Intake.ProcessAsync(confirm, null);
        Assert.Empty(late.AskedQueues);

        // The reschedule's calendar request rides the meeting converger's message: it asks the calendar once it is done.
        Assert.Equal([new ConvergeRequest(lecturer, booking), new ConvergeRequest(lecturer, booking) { Then = [QueueNames.CalendarConverge] }],
            await RequestsForAsync(QueueNames.ZoomConverge, booking));
        Assert.Empty(await RequestsForAsync(QueueNames.CalendarConverge, booking));
        // The recording converger only deletes a cancelled booking's video: a confirm is not its business.
        Assert.Empty(await RequestsForAsync(QueueNames.RecordingConverge, booking));
    }

    [Fact]
    public async Task Intake_Cancel_AsksTheRecordingConverger_OnlyWhenTheLessonCanHaveARecording()
    {
        var (lecturer, upcoming, held) = (NewId("lec"), NewId("bk"), NewId("bk"));
        var past = TimeProvider.System.GetUtcNow().AddHours(-2);
        await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, upcoming, 1, Lesson, lecturerId: lecturer), null);
        await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, held, 1, past, lecturerId: lecturer), null);
        // Both meetings record to the cloud, as the meeting converger writes it once both parties consented.
        foreach (var booking in new[] { upcoming, held })
        {
            await fixture.Storage.Table(TableNames.Bookings).UpdateEntityAsync(
                new Azure.Data.Tables.TableEntity(lecturer, booking) { [MeetingColumns.AutoRecording] = MeetingColumns.CloudRecording }, Azure.ETag.All);
        }

        var notHeld = await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingCancelled, upcoming, 2, Lesson, lecturerId: lecturer), null);
        var wasHeld = await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingCancelled, held, 2, past, lecturerId: lecturer), null);

        // A lesson that has not started has no recording: its meeting is deleted, and one started early is discarded by the archive.
        Assert.Equal([QueueNames.ZoomConverge], notHeld.AskedQueues);
        Assert.Equal([QueueNames.ZoomConverge, QueueNames.RecordingConverge], wasHeld.AskedQueues);
        Assert.Empty(await RequestsForAsync(QueueNames.RecordingConverge, upcoming));
        Assert.Equal([new ConvergeRequest(lecturer, held)], await RequestsForAsync(QueueNames.RecordingConverge, held));
    }

    private async Task<List<ConvergeRequest?>> RequestsForAsync(string queue, string booking) =>
        (await fixture.Storage.Queue(queue).PeekMessagesAsync(32)).Value
            .Select(m => ConvergeRequest.TryParse(m.Body.ToString()))
            .Where(r => r?.BookingId == booking)
            .ToList();

    /// <summary>
    /// Regression (found by the fault suite): a worker killed after the state write but before the converge requests
    /// left the change unconverged for ever, because the host's retry found the version stored and asked nothing.
    /// </summary>
    [Fact]
    public async Task Intake_WorkerKilledAfterTheStateWrite_TheRetryAsksTheConvergersAgain()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer);
        await fixture.Storage.EnsureProvisionedAsync();
        // What the dead worker did: the state write, and nothing after it.
        Assert.Equal(ApplyResult.Created, await Services.GetRequiredService<BookingStateStore>().ApplyAsync(Services.GetRequiredService<BookingEventParser>().Parse(message).Booking!));

        var etag = (await RowAsync(lecturer, booking))!.ETag;
        var retry = await Intake.ProcessAsync(message, "msg-retry");

        Assert.Equal(IntakeDisposition.Unchanged, retry.Disposition);
        // The retry cannot know the dead worker's new row was its own: it asks the meeting and calendar convergers
        // (idempotent: a booking that already matches costs them a read) and writes nothing.
        Assert.Equal([QueueNames.ZoomConverge], retry.AskedQueues);
        Assert.Equal([new ConvergeRequest(lecturer, booking) { Then = [QueueNames.CalendarConverge] }], await RequestsForAsync(QueueNames.ZoomConverge, booking));
        Assert.Empty(await RequestsForAsync(QueueNames.CalendarConverge, booking));
        Assert.Equal(etag, (await RowAsync(lecturer, booking))!.ETag);
    }

    [Fact]
    public async Task Intake_OlderEventAfterNewer_DoesNotRollTheBookingBack()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var confirm = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer);
        var reschedule = SampleEvents.Booking(EventTypes.BookingRescheduled, booking, 2, Lesson.AddHours(3), lecturerId: lecturer, durationMinutes: 25);

        await Intake.ProcessAsync(confirm, null);
        await Intake.ProcessAsync(reschedule, null);
        var late = await Intake.ProcessAsync(confirm, null);

        Assert.Equal(IntakeDisposition.Unchanged, late.Disposition);
        var row = (await RowAsync(lecturer, booking))!;
        Assert.Equal(2L, row.GetInt64("Version"));
        Assert.Equal(Lesson.AddHours(3), row.GetDateTimeOffset("StartsAtUtc"));
        Assert.Equal(25, row.GetInt32("DurationMinutes"));
    }

    [Fact]
    public async Task Intake_CancelSeenBeforeConfirm_LeavesTheBookingCancelled()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));

        await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingCancelled, booking, 2, Lesson, lecturerId: lecturer), null);
        var confirm = await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer), null);

        Assert.Equal(IntakeDisposition.Unchanged, confirm.Disposition);
        Assert.Equal("Cancelled", (await RowAsync(lecturer, booking))!.GetString("Status"));
    }

    [Fact]
    public async Task Intake_ConcurrentWritersOnOneBooking_NeverLoseTheNewestVersion()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var messages = Enumerable.Range(1, 20)
            .Select(v => SampleEvents.Booking(EventTypes.BookingRescheduled, booking, v, Lesson.AddMinutes(v), lecturerId: lecturer, durationMinutes: v))
            .SelectMany(m => new[] { m, m })
            .OrderBy(_ => Random.Shared.Next())
            .ToList();

        // Separate service providers: separate HTTP connections racing each other, as separate instances would.
        var writers = Enumerable.Range(0, 4).Select(_ => fixture.CreateServices()).ToList();
        try
        {
            using var start = new ManualResetEventSlim();
            var tasks = messages.Select((m, i) => Task.Run(async () =>
            {
                start.Wait();
                return await writers[i % writers.Count].GetRequiredService<BookingEventIntake>().ProcessAsync(m, null);
            })).ToList();
            start.Set();
            var outcomes = await Task.WhenAll(tasks);

            Assert.All(outcomes, o => Assert.NotEqual(IntakeDisposition.Rejected, o.Disposition));
            var row = (await RowAsync(lecturer, booking))!;
            Assert.Equal(20L, row.GetInt64("Version"));
            Assert.Equal(Lesson.AddMinutes(20), row.GetDateTimeOffset("StartsAtUtc"));
            Assert.Equal(20, row.GetInt32("DurationMinutes"));
            Assert.Equal($"{booking}-v20-rescheduled", row.GetString("LastEventId"));
        }
        finally
        {
            writers.ForEach(w => w.Dispose());
        }
    }

    [Fact]
    public async Task Store_NewerEvent_KeepsColumnsOtherWritersAdded()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer), null);
        var table = fixture.Storage.Table(TableNames.Bookings);
        var row = (await RowAsync(lecturer, booking))!;
        await table.UpdateEntityAsync(new TableEntity(lecturer, booking) { ["ZoomMeetingId"] = "8123" }, row.ETag, TableUpdateMode.Merge);

        await Intake.ProcessAsync(SampleEvents.Booking(EventTypes.BookingRescheduled, booking, 2, Lesson.AddDays(1), lecturerId: lecturer), null);

        var after = (await RowAsync(lecturer, booking))!;
        Assert.Equal("8123", after.GetString("ZoomMeetingId"));
        Assert.Equal(2L, after.GetInt64("Version"));
    }

    [Fact]
    public async Task Intake_InvalidEvent_IsPoisonedWithReasonAndOnlyTheContractFieldsAndStoresNothing()
    {
        var (lecturer, booking) = (NewId("lec"), NewId("bk"));
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer, durationMinutes: 0, eventId: NewId("evt"));
        var eventId = JsonDocument.Parse(message).RootElement.GetProperty("id").GetString()!;

        var outcome = await Intake.ProcessAsync(message, "queue-msg-9");

        Assert.Equal(IntakeDisposition.Rejected, outcome.Disposition);
        Assert.Null(await RowAsync(lecturer, booking));
        var poisoned = Assert.Single(await PoisonedAsync(), p => p.CorrelationId == eventId);
        Assert.Equal(RejectionReasons.DurationOutOfRange, poisoned.Reason);
        Assert.Equal(QueueNames.BookingEvents, poisoned.SourceQueue);
        // Only the contract's fields are kept: names, emails, phone and notes are not stored in poison.
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.DoesNotContain(value, poisoned.Message!, StringComparison.Ordinal));
        Assert.Contains($"\"bookingId\":\"{booking}\"", poisoned.Message, StringComparison.Ordinal);
        Assert.Equal(Sha256(message), poisoned.OriginalSha256);
        Assert.Contains(_logs.Lines, l => l.Contains(eventId, StringComparison.Ordinal) && l.Contains(RejectionReasons.DurationOutOfRange, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Intake_NotJson_IsPoisonedUnderTheQueueMessageId()
    {
        var messageId = NewId("qm");

        var outcome = await Intake.ProcessAsync("{ definitely not json", messageId);

        Assert.Equal(messageId, outcome.CorrelationId);
        var poisoned = Assert.Single(await PoisonedAsync(), p => p.CorrelationId == messageId);
        Assert.Equal(RejectionReasons.NotJson, poisoned.Reason);
        Assert.Null(poisoned.Message);
        Assert.Equal(Sha256("{ definitely not json"), poisoned.OriginalSha256);
        Assert.Equal(21, poisoned.OriginalBytes);
    }

    [Fact]
    public async Task Intake_OversizedMessage_IsPoisonedWithItsContractFieldsInlineAndNoBlob()
    {
        var booking = NewId("bk");
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, eventId: NewId("big"), tamper: d => d["notes"] = new string('n', 70_000));
        var messageId = NewId("qm");

        var outcome = await Intake.ProcessAsync(message, messageId);

        Assert.Equal(RejectionReasons.TooLarge, outcome.Rejection!.Reason);
        // Too large to parse safely, so it is filed under the queue message id.
        var poisoned = Assert.Single(await PoisonedAsync(), p => p.CorrelationId == messageId);
        Assert.Null(poisoned.PayloadBlob);
        Assert.DoesNotContain("nnnn", poisoned.Message!, StringComparison.Ordinal);
        Assert.Contains($"\"bookingId\":\"{booking}\"", poisoned.Message, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(message), poisoned.OriginalBytes);
    }

    // Found by fuzzing (QueueHandlerFuzzTests): originals under the old 40 KiB inline limit made envelopes the queue refuses
    // once JSON-escaped ('"' and '<' become \u0022 and \u003C), so RejectAsync threw and the message was retried instead of poisoned.
    [Theory]
    [InlineData("nesting")]
    [InlineData("markup")]
    public async Task Intake_MessageWhoseEnvelopeWouldNotFitTheQueue_IsPoisonedMinimisedWithoutABlob(string kind)
    {
        var message = kind == "nesting"
            ? string.Concat(Enumerable.Repeat("{\"a\":", 5000)) + "1" + new string('}', 5000)
            : SampleEvents.Booking(EventTypes.BookingConfirmed, NewId("bk"), 1, Lesson, durationMinutes: 0, eventId: NewId("evt"), tamper: d => d["notes"] = "PADDING")
                .Replace("PADDING", new string('<', 30_000), StringComparison.Ordinal);
        var messageId = NewId("qm");

        var outcome = await Intake.ProcessAsync(message, messageId);

        Assert.Equal(IntakeDisposition.Rejected, outcome.Disposition);
        var poisoned = Assert.Single(await PoisonedAsync(), p => p.CorrelationId == outcome.CorrelationId);
        Assert.Equal(kind == "nesting" ? RejectionReasons.NotJson : RejectionReasons.DurationOutOfRange, poisoned.Reason);
        Assert.Null(poisoned.PayloadBlob);
        Assert.Equal(Sha256(message), poisoned.OriginalSha256);
        if (kind == "nesting")
        {
            Assert.Null(poisoned.Message);
        }
        else
        {
            Assert.DoesNotContain("<", poisoned.Message!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Intake_TwoOversizedMessagesWithOneEventId_KeepTwoEntriesTellingThemApartByDigest()
    {
        var eventId = NewId("same");
        var first = SampleEvents.Booking(EventTypes.BookingConfirmed, NewId("bk"), 1, Lesson, durationMinutes: 0, eventId: eventId, tamper: d => d["notes"] = new string('1', 50_000));
        var second = first.Replace(new string('1', 50_000), new string('2', 50_000), StringComparison.Ordinal);

        await Intake.ProcessAsync(first, NewId("qm"));
        await Intake.ProcessAsync(second, NewId("qm"));

        var digests = (await PoisonedAsync()).Where(p => p.CorrelationId == eventId).Select(p => p.OriginalSha256!);
        Assert.Equal(new[] { Sha256(first), Sha256(second) }.Order(StringComparer.Ordinal), digests.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Intake_NewsletterSubscribed_IsForwardedWithOnlyTheFieldsItsHandlerNeeds()
    {
        var member = NewId("stu");
        var outcome = await Intake.ProcessAsync(SampleEvents.NewsletterSubscribed(member, "hanako.yamada@example.jp", eventId: NewId("sub")), null);

        Assert.Equal(IntakeDisposition.Forwarded, outcome.Disposition);
        var forwarded = (await fixture.Storage.Queue(QueueNames.NewsletterEvents).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Single(e => e.GetProperty("data").GetProperty("memberId").GetString() == member);
        var data = forwarded.GetProperty("data");
        Assert.Equal(EventTypes.NewsletterSubscribed, forwarded.GetProperty("type").GetString());
        Assert.Equal(["consentRecordId", "consentedAt", "email", "list", "locale", "memberId"], data.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.DoesNotContain("山田", forwarded.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Intake_ErasureRequested_WaitsOnTheErasureQueueWithItsRequestId()
    {
        var member = NewId("stu");

        var outcome = await Intake.ProcessAsync(SampleEvents.ErasureRequested(member, eventId: NewId("era")), null);

        Assert.Equal(IntakeDisposition.Forwarded, outcome.Disposition);
        var data = (await fixture.Storage.Queue(QueueNames.ErasureRequests).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement.GetProperty("data"))
            .Single(d => d.GetProperty("memberId").GetString() == member);
        Assert.Equal($"era_{member}", data.GetProperty("requestId").GetString());
    }

    // Found by fuzzing (QueueHandlerFuzzTests, booking-events): a CloudEvent id is any text, and intake logged it and filed the
    // poison envelope under it, so an email (or 60 KB) used as an id ended up in log lines and in the envelope.
    [Fact]
    public async Task Intake_RefusedEventWhoseIdIsNotAnId_IsFiledUnderTheQueueMessageId_AndTheIdIsNeverLogged()
    {
        const string personalId = "Mkr!7q9Zx@example.jp";
        var messageId = NewId("qm");
        var message = SampleEvents.Booking(EventTypes.BookingConfirmed, NewId("bk"), 1, Lesson, durationMinutes: 0, eventId: personalId);

        var outcome = await Intake.ProcessAsync(message, messageId);

        Assert.Equal(messageId, outcome.CorrelationId);
        var poisoned = Assert.Single(await PoisonedAsync(), p => p.CorrelationId == messageId);
        Assert.Equal(RejectionReasons.DurationOutOfRange, poisoned.Reason);
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(personalId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Intake_MemberEventWhoseIdIsNotAnId_IsForwardedUnderTheQueueMessageId_AndTheIdIsNeverLogged()
    {
        const string personalId = "Mkr!7q9Zx@example.jp";
        var (member, messageId) = (NewId("stu"), NewId("qm"));

        var outcome = await Intake.ProcessAsync(SampleEvents.ErasureRequested(member, eventId: personalId), messageId);

        Assert.Equal((IntakeDisposition.Forwarded, messageId), (outcome.Disposition, outcome.CorrelationId));
        var forwarded = (await fixture.Storage.Queue(QueueNames.ErasureRequests).PeekMessagesAsync(32)).Value
            .Select(m => JsonDocument.Parse(m.Body.ToString()).RootElement)
            .Single(e => e.GetProperty("data").GetProperty("memberId").GetString() == member);
        Assert.Equal(messageId, forwarded.GetProperty("id").GetString());
        Assert.DoesNotContain(_logs.Lines, l => l.Contains(personalId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Intake_WholeDemoDay_LogsNoPersonalValue()
    {
        foreach (var message in SampleEvents.DemoDay(TimeProvider.System.GetUtcNow()))
        {
            await Intake.ProcessAsync(message, null);
        }

        Assert.NotEmpty(_logs.Lines);
        var everything = string.Join("\n", _logs.Lines);
        Assert.All(SampleEvents.PlantedPersonalValues, value => Assert.DoesNotContain(value, everything, StringComparison.Ordinal));
        Assert.DoesNotContain("hanako", everything, StringComparison.OrdinalIgnoreCase);
    }
}
