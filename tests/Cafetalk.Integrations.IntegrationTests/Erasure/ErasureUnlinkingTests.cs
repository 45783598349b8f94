using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Erasure;

/// <summary>
/// After an erasure, nothing the app can read links the member to what is left, and nothing that arrives later
/// brings them back: keyed ids, stripped booking rows, random unsubscribe links, a tombstone at every entry point,
/// and the pseudonym mapping sealed for the privacy office only.
/// </summary>
public sealed class ErasureUnlinkingTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private static readonly DateTimeOffset Lesson = TimeProvider.System.GetUtcNow().AddDays(6);
    private IServiceProvider Services => fixture.Services;

    private static string NewId(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>A lesson (meeting created, join link stored) between the two, and a newsletter subscription of the student.</summary>
    private async Task<string> LessonAsync(string lecturer, string student)
    {
        var booking = NewId("bk");
        await Services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingConfirmed, booking, 1, Lesson, lecturerId: lecturer, studentId: student), null);
        Assert.Equal(MeetingConvergence.Created, (await Services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturer, booking)).Outcome);
        await Services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(SampleEvents.NewsletterSubscribed(student, $"{student}@example.jp"), null);
        return booking;
    }

    private async Task<List<TableEntity>> RowsAsync(string table, string? filter = null)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in fixture.Storage.Table(table).QueryAsync<TableEntity>(filter))
        {
            rows.Add(row);
        }

        return rows;
    }

    [Fact]
    public async Task Erase_ReceiptAndCorrelationIds_DoNotYieldToABruteForceOverMemberIds()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);

        var receipt = await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_keyed");

        // The attack: hash every candidate member id and look for it in the receipts and the ledger's correlation ids.
        string[] candidates = [.. Enumerable.Range(0, 2000).Select(i => $"stu_{i:x}"), student, lecturer];
        var hashes = candidates.Select(c => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(c)))).ToHashSet();
        var receiptKeys = (await RowsAsync(TableNames.ErasureReceipts)).Select(r => r.RowKey).ToList();
        var correlationIds = (await RowsAsync(TableNames.DisclosureLedger)).Select(r => r.GetString("CorrelationId")).OfType<string>().Where(c => c.StartsWith("erasure-", StringComparison.Ordinal)).ToList();
        Assert.Contains(receipt.ReceiptId, receiptKeys);
        Assert.NotEmpty(correlationIds);
        Assert.DoesNotContain(receiptKeys, hashes.Contains);
        Assert.DoesNotContain(correlationIds, c => hashes.Any(h => c == $"erasure-{h[..16]}"));

        // Only the Key Vault key links them: HMAC under it finds the receipt.
        var keyed = Convert.ToHexStringLower(HMACSHA256.HashData(Convert.FromBase64String(fixture.Sandbox.Keys.ErasureMemberKey), Encoding.UTF8.GetBytes("erasure\n" + student)));
        Assert.Equal(keyed, receipt.ReceiptId);
        Assert.Contains($"erasure-{keyed[..16]}", correlationIds);
    }

    [Fact]
    public async Task EraseStudent_BookingRowLosesTheStudentIdAndJoinLink()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        var booking = await LessonAsync(lecturer, student);
        var before = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value;
        Assert.False(string.IsNullOrEmpty(before.GetString(ZoomMeetingColumns.JoinUrl)));

        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_rows");

        var row = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value;
        Assert.NotNull(row.GetDateTimeOffset("ErasedAtUtc"));
        Assert.Equal(string.Empty, row.GetString("StudentId"));
        Assert.Equal(string.Empty, row.GetString(ZoomMeetingColumns.JoinUrl));
        Assert.DoesNotContain(row.Select(p => p.Value), v => v is string s && s.Contains(student, StringComparison.Ordinal));
    }

    [Fact]
    public async Task EraseLecturer_NoTableHoldsTheLecturerId_AndTheirBookingRowsAreGone()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        var booking = await LessonAsync(lecturer, student);
        await Services.GetRequiredService<ZoomHostDirectory>().AssignAsync(lecturer, "zoom-host-user-1");
        await Services.GetRequiredService<CalendarConnectStates>().SaveAsync(NewId("state"), new ConnectState(lecturer, "verifier", new byte[32], TimeProvider.System.GetUtcNow().AddMinutes(10), NewId("ticket"), TimeProvider.System.GetUtcNow().AddMinutes(10), null));

        var receipt = await Services.GetRequiredService<MemberErasure>().EraseAsync(lecturer, "era_lecturer_rows");

        Assert.True(receipt.IsCompleted, receipt.ToJson());
        Assert.False((await fixture.Storage.Table(TableNames.Bookings).GetEntityIfExistsAsync<TableEntity>(lecturer, booking)).HasValue);
        foreach (var table in TableNames.All)
        {
            var holding = (await RowsAsync(table)).Where(r => r.PartitionKey == lecturer || r.RowKey == lecturer
                || r.Select(p => p.Value).Any(v => v is string s && s.Contains(lecturer, StringComparison.Ordinal))).ToList();
            Assert.True(holding.Count == 0, $"table {table} still names the erased lecturer in {holding.Count} rows");
        }
    }

    [Fact]
    public async Task UnsubscribeLink_CarriesARandomLinkIdNotThePseudonym_AndStopsWorkingAfterErasure()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        var subjectRef = (await Services.GetRequiredService<SubjectRegistry>().FindAsync(student))!;
        var token = (await Services.GetRequiredService<NewsletterSubscriptions>().HeadersAsync(student, "cafetalk-news")).UnsubscribeUrl.Split("t=")[1];

        var carried = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(Uri.UnescapeDataString(token)));
        Assert.DoesNotContain(subjectRef, carried, StringComparison.Ordinal);
        Assert.DoesNotContain(student, carried, StringComparison.Ordinal);
        Assert.Matches("lnk-[0-9a-f]{32}", carried);
        var preferences = Services.GetRequiredService<NewsletterPreferences>();
        Assert.True((await preferences.ViewAsync(token)).ValidLink);

        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_links");

        Assert.False((await preferences.ViewAsync(token)).ValidLink);
        Assert.Equal(StatusChange.NotFound, (await preferences.UnsubscribeAsync(token, ConsentSources.OneClick)).Change);
        Assert.Empty(await RowsAsync(TableNames.UnsubscribeLinks, TableClient.CreateQueryFilter($"PartitionKey eq {subjectRef} or SubjectRef eq {subjectRef}")));
    }

    [Fact]
    public async Task UnsubscribeLink_MailedBeforeLinkIds_StillUnsubscribes()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        var subjectRef = (await Services.GetRequiredService<SubjectRegistry>().FindAsync(student))!;
        var legacy = Services.GetRequiredService<UnsubscribeTokens>().Issue(subjectRef, "cafetalk-news");

        var result = await Services.GetRequiredService<NewsletterPreferences>().UnsubscribeAsync(legacy, ConsentSources.OneClick);

        Assert.True(result.ValidLink);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Services.GetRequiredService<NewsletterSubscriptionStore>().GetAsync(subjectRef, "cafetalk-news"))!.Status);
    }

    [Fact]
    public async Task AfterErasure_ABookingEventNamingTheMember_IsDropped_NoRowNoMappingNoMeeting()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_late_booking");
        var newBooking = NewId("bk");
        var createsBefore = fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate);

        var outcome = await Services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingConfirmed, newBooking, 1, Lesson, lecturerId: lecturer, studentId: student), null);

        Assert.Equal(IntakeDisposition.Dropped, outcome.Disposition);
        Assert.False((await fixture.Storage.Table(TableNames.Bookings).GetEntityIfExistsAsync<TableEntity>(lecturer, newBooking)).HasValue);
        await Services.GetRequiredService<MeetingConverger>().ConvergeAsync(lecturer, newBooking);
        Assert.Equal(createsBefore, fixture.Sandbox.Zoom.Requests.Count(r => r.IsCreate));
        Assert.Null(await Services.GetRequiredService<SubjectRegistry>().FindAsync(student));
    }

    [Fact]
    public async Task AfterErasure_ARescheduleOfTheErasedStudentsBooking_IsDropped_TheScrubbedRowIsNotReLinked()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        var booking = await LessonAsync(lecturer, student);
        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_late_reschedule");
        var scrubbed = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value;
        Assert.Equal(string.Empty, scrubbed.GetString("StudentId"));

        var outcome = await Services.GetRequiredService<BookingEventIntake>().ProcessAsync(
            SampleEvents.Booking(EventTypes.BookingRescheduled, booking, 2, Lesson.AddHours(2), lecturerId: lecturer, studentId: student), null);

        // The row's own erasure mark refuses it: the student's id is not written back beside the lesson.
        Assert.Equal(IntakeDisposition.Dropped, outcome.Disposition);
        var after = (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value;
        Assert.Equal(string.Empty, after.GetString("StudentId"));
        Assert.Equal(1L, after.GetInt64("Version"));
        Assert.Equal(scrubbed.ETag, after.ETag);
    }

    [Fact]
    public async Task ApplyChange_AsksTheTombstoneOnlyWhenTheEventWritesAMemberIdTheRowDoesNotHold()
    {
        var (lecturer, student, other) = (NewId("lec"), NewId("stu"), NewId("stu"));
        var booking = NewId("bk");
        var store = Services.GetRequiredService<BookingStateStore>();
        var parser = Services.GetRequiredService<BookingEventParser>();
        var asked = 0;
        Task<bool> NotErased(CancellationToken _)
        {
            asked++;
            return Task.FromResult(false);
        }

        BookingEvent Event(string type, long version, string studentId) =>
            parser.Parse(SampleEvents.Booking(type, booking, version, Lesson, lecturerId: lecturer, studentId: studentId)).Booking!;

        Assert.Equal(ApplyResult.Created, (await store.ApplyChangeAsync(Event(EventTypes.BookingConfirmed, 1, student), NotErased)).Result);
        Assert.Equal(1, asked);
        Assert.Equal(ApplyResult.Updated, (await store.ApplyChangeAsync(Event(EventTypes.BookingRescheduled, 2, student), NotErased)).Result);
        Assert.Equal(ApplyResult.Updated, (await store.ApplyChangeAsync(Event(EventTypes.BookingCancelled, 3, student), NotErased)).Result);
        Assert.Equal(1, asked);

        // A new student is a member id the row does not hold yet: asked, and refused when erased.
        Assert.Equal(ApplyResult.Erased, (await store.ApplyChangeAsync(Event(EventTypes.BookingConfirmed, 4, other), _ => { asked++; return Task.FromResult(true); })).Result);
        Assert.Equal(2, asked);
        Assert.Equal(student, (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value.GetString("StudentId"));

        // A row an erasure has marked refuses every later event without asking.
        await store.MarkErasedAsync(student);
        Assert.Equal(ApplyResult.Erased, (await store.ApplyChangeAsync(Event(EventTypes.BookingConfirmed, 5, student), NotErased)).Result);
        Assert.Equal(2, asked);
        Assert.Equal(3L, (await fixture.Storage.Table(TableNames.Bookings).GetEntityAsync<TableEntity>(lecturer, booking)).Value.GetInt64("Version"));
    }

    [Fact]
    public async Task AfterErasure_ANewsletterSubscription_IsDropped_NoSubscriptionNoMapping()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_late_subscribe");
        var subscriptionsBefore = (await RowsAsync(TableNames.NewsletterSubscriptions)).Count;

        var change = await Services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(
            SampleEvents.NewsletterSubscribed(student, $"{student}@example.jp", eventId: $"resubscribe-{student}"), null);

        Assert.Null(change);
        Assert.Null(await Services.GetRequiredService<SubjectRegistry>().FindAsync(student));
        Assert.Equal(subscriptionsBefore, (await RowsAsync(TableNames.NewsletterSubscriptions)).Count);
    }

    [Fact]
    public async Task AfterErasure_ACalendarConnectTicket_ConnectsNothing()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        var ticket = Services.GetRequiredService<ConnectTickets>().Issue(lecturer);
        await Services.GetRequiredService<MemberErasure>().EraseAsync(lecturer, "era_late_connect");
        using var http = fixture.CreateClient();

        using var response = await http.GetAsync($"api/{CalendarConnectFlow.ConnectRoute}?ticket={Uri.EscapeDataString(ticket)}");

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Empty(await RowsAsync(TableNames.CalendarConnectStates, TableClient.CreateQueryFilter($"LecturerId eq {lecturer}")));
    }

    [Fact]
    public async Task AfterErasure_ANewPseudonymForTheMember_IsRefused()
    {
        var student = NewId("stu");
        var subjects = Services.GetRequiredService<SubjectRegistry>();
        await subjects.MarkErasedAsync(student);

        await Assert.ThrowsAsync<MemberErasedException>(() => subjects.GetOrCreateAsync(student));
        Assert.Null(await subjects.FindAsync(student));
    }

    [Fact]
    public async Task Erase_SealsTheMapping_OnlyThePrivacyOfficeKeyOpensIt_AndTheExportStillAnswers()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        var subjects = Services.GetRequiredService<SubjectRegistry>();
        var subjectRef = (await subjects.FindAsync(student))!;
        var before = await Services.GetRequiredService<DisclosureExport>().ForMemberAsync(student);

        await Services.GetRequiredService<MemberErasure>().EraseAsync(student, "era_sealed");

        // The app can no longer tell: no plain mapping, no row keyed by the member id, no row holding the pseudonym in the clear.
        Assert.Null(await subjects.FindAsync(student));
        Assert.Empty(await Services.GetRequiredService<DisclosureExport>().ForMemberAsync(student));
        Assert.DoesNotContain(await RowsAsync(TableNames.Subjects), r => r.PartitionKey == student || r.Select(p => p.Value).Any(v => v is string s && (s.Contains(subjectRef, StringComparison.Ordinal) || s.Contains(student, StringComparison.Ordinal))));
        var sealedRow = (await subjects.FindSealedAsync(student))!.Value;
        Assert.True(sealedRow.RetainUntil >= TimeProvider.System.GetUtcNow().AddYears(DisclosureLedger.RetentionYears).AddDays(-1));

        // The privacy office opens it with its private key; any other key opens nothing.
        var opened = (await subjects.OpenSealedAsync(student, fixture.Sandbox.Keys.PrivacyOffice.PrivateKeyPem))!.Value;
        Assert.Equal(new SubjectMapping(student, subjectRef), opened.Mapping);
        await Assert.ThrowsAsync<SealedSubjectException>(() => subjects.OpenSealedAsync(student, PrivacyOfficeKeyPair.Generate().PrivateKeyPem));
        var export = await Services.GetRequiredService<DisclosureExport>().ForErasedMemberAsync(student, fixture.Sandbox.Keys.PrivacyOffice.PrivateKeyPem);
        Assert.NotNull(export);
        Assert.True(export.Count >= before.Count);
        Assert.Contains(export, r => r.Recipient == "Zoom Video Communications, Inc.");
    }

    [Fact]
    public async Task Seal_RetriedAfterTheMappingWasSealed_KeepsTheSealedMappingAndItsRetention()
    {
        var (lecturer, student) = (NewId("lec"), NewId("stu"));
        await LessonAsync(lecturer, student);
        var subjects = Services.GetRequiredService<SubjectRegistry>();
        var retainUntil = TimeProvider.System.GetUtcNow().AddYears(DisclosureLedger.RetentionYears);
        Assert.True(await subjects.SealAsync(student, retainUntil));
        var first = (await subjects.FindSealedAsync(student))!.Value;

        // The crashed erasure's retry finds no plain mapping and no chain: it must not shorten or drop the seal.
        Assert.False(await subjects.SealAsync(student, TimeProvider.System.GetUtcNow()));

        var second = (await subjects.FindSealedAsync(student))!.Value;
        Assert.Equal(first.Sealed, second.Sealed);
        Assert.Equal(first.RetainUntil, second.RetainUntil);
    }
}
