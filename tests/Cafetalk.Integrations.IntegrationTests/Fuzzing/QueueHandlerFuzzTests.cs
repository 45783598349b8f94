using System.Collections.Concurrent;
using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.Fuzzing;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Fuzzing;

/// <summary>
/// Every queue a function listens to, fuzzed against a real Azurite. <see cref="FuzzSettings.Count"/> messages per
/// queue go straight to the handler each function calls (in parallel; Azurite is the real one); a sample of them goes
/// through <see cref="LocalQueuePump"/>, which receives, invokes the function class and poisons as the host does.
/// Each refused message is poisoned exactly once with a known reason, nothing else is written, no provider is called,
/// and no log line carries a planted value. Messages that happen to be valid are counted and checked against what
/// the handler is meant to do with them.
/// </summary>
public sealed class QueueHandlerFuzzTests(FuzzFixture fixture, ITestOutputHelper output) : IClassFixture<FuzzFixture>
{
    private const string Refused = "refused";

    private static readonly HashSet<string> KnownReasons =
    [
        RejectionReasons.NotJson, RejectionReasons.NotCloudEvent, RejectionReasons.UnknownType, RejectionReasons.MissingField,
        RejectionReasons.InvalidField, RejectionReasons.StartsAtNotUtc, RejectionReasons.StartsAtTooFarOut,
        RejectionReasons.DurationOutOfRange, RejectionReasons.UnknownTimeZone, RejectionReasons.TooLarge,
    ];

    private static IReadOnlyList<string> QueueNamesFromTriggers => [.. LocalQueuePump.ReadFunctions().Select(f => f.Queue).Distinct()];

    public static TheoryData<string> Queues() => [.. QueueNamesFromTriggers];

    /// <summary>What the handler did with one message: refused it, or handled it as designed (<see cref="Key"/> names what it touched).</summary>
    private sealed record Outcome(string Kind, string? Key = null)
    {
        /// <summary>The converge queues intake asked (booking events only).</summary>
        public IReadOnlyList<string> Asked { get; init; } = [];
    }

    [Theory]
    [MemberData(nameof(Queues))]
    public async Task Handler_FuzzedMessages_EachPoisonedOnceWithAReason_NothingElseWritten_NoProviderCalled(string queue)
    {
        await fixture.ResetAsync();
        var inputs = AsQueueDelivers(FuzzSettings.Inputs($"queue:{queue}", QueueMessages.BadInputFor(queue, TimeProvider.System.GetUtcNow())));
        var before = await fixture.SnapshotAsync();
        var providerRequests = fixture.ProviderRequests;
        var logLines = fixture.Logs.Lines.Count;
        var outcomes = new Outcome[inputs.Count];
        var problems = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();

        fixture.PoisonWrites.Enabled = true;
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, inputs.Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                try
                {
                    outcomes[i] = await InvokeAsync(queue, inputs[i], MessageId(queue, i));
                }
                catch (Exception ex)
                {
                    outcomes[i] = new Outcome("threw");
                    problems.Enqueue($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i])}");
                }
            });
        }
        finally
        {
            fixture.PoisonWrites.Enabled = false;
        }

        var elapsed = clock.Elapsed;
        var diff = (await fixture.SnapshotAsync()).Since(before);
        var poisoned = TakeWrittenPoison(problems);
        CheckPoison(queue, inputs, outcomes, poisoned, problems);
        CheckWrites(queue, outcomes, diff, problems);
        if (fixture.ProviderRequests != providerRequests)
        {
            problems.Enqueue($"{fixture.ProviderRequests - providerRequests} provider request(s) were made");
        }

        foreach (var line in fixture.Logs.Lines.Skip(logLines).Where(Junk.HasMarker).Take(5))
        {
            problems.Enqueue($"a log line carries a planted value: {FuzzSettings.Show(line)}");
        }

        var kinds = outcomes.GroupBy(o => o.Kind).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
        output.WriteLine($"{queue}: {inputs.Count} messages at the handler in {elapsed.TotalSeconds:F1} s ({FuzzSettings.Replay}): {string.Join(", ", kinds)}; " +
            "poison reasons " + string.Join(", ", poisoned.GroupBy(p => p.Envelope.Reason).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")) +
            $"; {poisoned.Count(p => p.Envelope.PayloadBlob is not null)} originals kept as blobs");
        FuzzSettings.AssertNone($"queue {queue} (handler)", problems.ToList(), inputs.Count);
    }

    /// <summary>The SHA-256 an envelope names its message by: poison keeps only the contract's fields, so messages are compared by digest.</summary>
    private static string Digest(string message) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(message)));

    /// <summary>The envelopes PoisonQueue wrote while the in-memory answer was on, each with the digest of its message.</summary>
    private List<(PoisonEnvelope Envelope, string Digest)> TakeWrittenPoison(ConcurrentQueue<string> problems)
    {
        var (messages, blobs) = fixture.PoisonWrites.Take();
        var poisoned = new List<(PoisonEnvelope, string)>();
        foreach (var (text, encodedLength) in messages)
        {
            if (encodedLength > PoisonWritesInMemory.MaxMessageTextLength)
            {
                problems.Enqueue($"an envelope the queue would refuse ({encodedLength} characters encoded): {FuzzSettings.Show(text)}");
            }

            if (PoisonEnvelope.TryParse(text) is not { } envelope)
            {
                problems.Enqueue($"booking-events-poison got a message that is not an envelope: {FuzzSettings.Show(text)}");
                continue;
            }

            if (envelope.OriginalSha256 is null)
            {
                problems.Enqueue($"an envelope without the digest of its message: {FuzzSettings.Show(text)}");
                continue;
            }

            poisoned.Add((envelope, envelope.OriginalSha256));
        }

        if (blobs.Count != 0)
        {
            problems.Enqueue($"{blobs.Count} poison-payload blobs written: poison keeps only the contract's fields, inline");
        }

        return poisoned;
    }

    [Fact]
    public async Task LocalQueuePump_FuzzedMessagesOnEveryQueue_EachPoisonedOnceWithAReason_NothingLeftBehind_NoProviderCalled()
    {
        await fixture.ResetAsync();
        var perQueue = Math.Max(10, FuzzSettings.Count / 50);
        var oracle = new BookingEventParser(TimeProvider.System);
        var providerRequests = fixture.ProviderRequests;
        var sent = new List<(string Queue, string Message)>();
        var tooLarge = 0;
        foreach (var queue in QueueNamesFromTriggers)
        {
            foreach (var message in AsQueueDelivers(FuzzSettings.Inputs($"pump:{queue}", QueueMessages.BadInputFor(queue, TimeProvider.System.GetUtcNow()), perQueue)))
            {
                // A valid booking event is converged at the simulators by design; the handler-level run covers those.
                if (queue == QueueNames.BookingEvents && oracle.Parse(message).Booking is not null)
                {
                    continue;
                }

                try
                {
                    await fixture.Storage.Queue(queue).SendMessageAsync(message);
                    sent.Add((queue, message));
                }
                catch (RequestFailedException ex) when (ex.Status == 413 || ex.ErrorCode == "RequestBodyTooLarge" || ex.ErrorCode == "MessageTooLarge")
                {
                    // Over the 64 KiB a queue message may be: no function can ever be handed it.
                    tooLarge++;
                }
            }
        }

        var clock = Stopwatch.StartNew();
        await ActivatorUtilities.CreateInstance<LocalQueuePump>(fixture.Services).RunUntilIdleAsync();
        var elapsed = clock.Elapsed;

        var problems = new List<string>();
        var poisoned = await fixture.TakePoisonAsync();

        // A fuzzed erasure request that is valid erases its member, and the poison step deletes every poison entry that
        // names the member's id as a JSON value: whether such an entry is still there depends on which ran first.
        var erasedIds = sent.Where(s => s.Queue == QueueNames.ErasureRequests)
            .Select(s => oracle.Parse(s.Message).Member).Where(m => m is { Type: EventTypes.MemberErasureRequested })
            .Select(m => $"\"{m!.MemberId}\"").ToHashSet(StringComparer.Ordinal);
        bool MayBeErased(string message) => erasedIds.Any(id => message.Contains(id, StringComparison.Ordinal));
        foreach (var queue in sent.Select(s => s.Queue).Distinct())
        {
            var left = (await fixture.Storage.Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount;
            if (left != 0)
            {
                problems.Add($"{queue}: {left} message(s) still on the queue (failed and waiting for a retry)");
            }

            var hostPoison = fixture.Storage.Queue(queue + "-poison");
            if (await hostPoison.ExistsAsync() && (await hostPoison.GetPropertiesAsync()).Value.ApproximateMessagesCount is > 0 and var failed)
            {
                problems.Add($"{queue}: {failed} message(s) failed {LocalQueuePump.MaxDequeueCount} times and went to {queue}-poison without a reason");
            }

            var refusedHere = sent.Where(s => s.Queue == queue && RefusedByOracle(oracle, queue, s.Message)).Select(s => s.Message).ToList();
            // zoom-events entries keep a withheld stand-in, never a member id, so no erasure touches them.
            bool Erasable(string message) => queue != QueueNames.ZoomEvents && MayBeErased(message);
            var erasable = refusedHere.Where(Erasable).Select(Digest).ToHashSet(StringComparer.Ordinal);
            var expected = refusedHere.Where(m => !Erasable(m)).ToList();
            var all = poisoned.Where(p => p.Envelope.SourceQueue == queue).ToList();
            var actual = all.Where(p => !erasable.Contains(p.Digest)).ToList();
            if (all.Count(p => erasable.Contains(p.Digest)) > erasable.Count)
            {
                problems.Add($"{queue}: a message naming an erased member was poisoned more than once");
            }

            if (queue == QueueNames.ZoomEvents)
            {
                // Refused zoom-events messages are kept withheld (they can hold a download token): only the count can be compared.
                if (actual.Count != expected.Count)
                {
                    problems.Add($"{queue}: {actual.Count} envelopes for {expected.Count} refused messages");
                }
            }
            else if (Minus(actual.Select(p => p.Digest), expected.Select(Digest)).Concat(Minus(expected.Select(Digest), actual.Select(p => p.Digest))).FirstOrDefault() is { } different)
            {
                problems.Add($"{queue}: poisoned {actual.Count} times for {expected.Count} refused messages; e.g. {FuzzSettings.Show(different)}");
            }

            problems.AddRange(actual.Where(p => !KnownReasons.Contains(p.Envelope.Reason)).Take(3).Select(p => $"{queue}: unknown reason {FuzzSettings.Show(p.Envelope.Reason)}"));
        }

        if (fixture.ProviderRequests != providerRequests)
        {
            problems.Add($"{fixture.ProviderRequests - providerRequests} provider request(s) were made");
        }

        output.WriteLine($"local pump: {sent.Count} messages over {sent.Select(s => s.Queue).Distinct().Count()} queues in {elapsed.TotalSeconds:F1} s ({FuzzSettings.Replay}); " +
            $"{poisoned.Count} poisoned with a reason; {tooLarge} over the queue's 64 KiB limit not sent; " +
            string.Join(", ", sent.GroupBy(s => s.Queue).Select(g => $"{g.Key} {g.Count()}")));
        FuzzSettings.AssertNone("LocalQueuePump", problems, sent.Count);
    }

    private static string MessageId(string queue, int i) => $"fuzz-{queue}-{i}";

    /// <summary>
    /// The messages as a queue trigger hands them over: a queue carries bytes and the host decodes them as UTF-8, so text
    /// with unpaired surrogates (which the unit fuzz tests still feed the parsers) arrives with U+FFFD in their place.
    /// </summary>
    private static List<string> AsQueueDelivers(IEnumerable<string> messages) =>
        [.. messages.Select(m => System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(m)))];

    /// <summary>Runs the handler the queue's function calls, and reads what it did from its result.</summary>
    private async Task<Outcome> InvokeAsync(string queue, string message, string messageId)
    {
        var services = fixture.Services;
        switch (queue)
        {
            case QueueNames.BookingEvents:
                var intake = await services.GetRequiredService<BookingEventIntake>().ProcessAsync(message, messageId);
                return intake.Disposition == IntakeDisposition.Rejected ? new Outcome(Refused)
                    : intake.Disposition == IntakeDisposition.Forwarded ? new Outcome("forwarded", ForwardedTo(message))
                    : intake.Disposition == IntakeDisposition.Applied && IsCancel(message) ? new Outcome("applied cancel", BookingKey(message)) { Asked = intake.AskedQueues }
                    : new Outcome(intake.Disposition.ToString().ToLowerInvariant(), BookingKey(message)) { Asked = intake.AskedQueues };
            case QueueNames.ErasureRequests:
                var receipt = await services.GetRequiredService<ErasureRequests>().HandleAsync(message, messageId);
                return receipt is null ? new Outcome(Refused) : new Outcome($"erased ({receipt.Status})", receipt.ReceiptId);
            case QueueNames.NewsletterEvents:
                var change = await services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(message, messageId);
                return change is null ? new Outcome(Refused) : new Outcome($"subscription {change}");
            case QueueNames.ZoomConverge:
                var meeting = await services.GetRequiredService<ZoomConvergeHandler>().HandleAsync(message, messageId);
                return meeting is null ? new Outcome(Refused) : new Outcome($"zoom {meeting.Outcome}");
            case QueueNames.CalendarConverge:
                var calendarEvent = await services.GetRequiredService<CalendarConvergeHandler>().HandleAsync(message, messageId);
                return calendarEvent is null ? new Outcome(Refused) : new Outcome($"calendar {calendarEvent.Outcome}");
            case QueueNames.RecordingConverge:
                // The handler answers false both for a refusal and for "nothing to delete": its own first step tells them apart.
                var deleted = await services.GetRequiredService<RecordingConvergeHandler>().HandleAsync(message, messageId);
                return ConvergeRequest.TryParse(message) is null ? new Outcome(Refused) : new Outcome(deleted ? "video deleted" : "no video to delete");
            case QueueNames.ZoomEvents:
                var recording = await services.GetRequiredService<RecordingEventsHandler>().HandleAsync(message, messageId);
                return recording is not null ? new Outcome($"recording {recording.Outcome}")
                    : RefusedByOracle(null, queue, message) ? new Outcome(Refused) : new Outcome("event needs nothing here");
            case QueueNames.ZoomMeetingChanges:
                var meetingChange = await services.GetRequiredService<ZoomMeetingChanges>().HandleAsync(message, messageId);
                return meetingChange is null ? new Outcome(Refused) : new Outcome($"meeting change {meetingChange}");
            case QueueNames.CalendarChanges:
                // A lecturer the fuzz never connected: a well-formed message ends with no sync (null), as a refused one does.
                await services.GetRequiredService<CalendarChangeSync>().HandleAsync(message, messageId);
                return CalendarChangeRequest.Read(message).Value is null ? new Outcome(Refused) : new Outcome("no connection to sync");
            case QueueNames.MailSuppressions:
                await services.GetRequiredService<MailSuppressionSync>().HandleAsync(message, messageId);
                return MailSuppressionRequest.TryParse(message) is null ? new Outcome(Refused) : new Outcome("no such subscription");
            default:
                throw new ArgumentOutOfRangeException(nameof(queue), queue, "no handler");
        }
    }

    /// <summary>Whether the queue's function must refuse the message, read from the pure parsing step the unit fuzz tests cover.</summary>
    private static bool RefusedByOracle(BookingEventParser? parser, string queue, string message) => queue switch
    {
        QueueNames.BookingEvents => parser!.Parse(message).Rejection is not null,
        QueueNames.ErasureRequests => parser!.Parse(message).Member is not { Type: EventTypes.MemberErasureRequested },
        QueueNames.NewsletterEvents => parser!.Parse(message).Member is not { Type: EventTypes.NewsletterSubscribed },
        QueueNames.ZoomEvents => ZoomEventMessage.TryParse(message) is not { } parsed || (parsed.Event == ZoomEventMessage.RecordingCompleted && parsed.MeetingId is null),
        QueueNames.ZoomMeetingChanges => ZoomEventMessage.TryParse(message) is not { MeetingId: not null, Event: ZoomEventMessage.MeetingDeleted or ZoomEventMessage.MeetingUpdated },
        QueueNames.MailSuppressions => MailSuppressionRequest.TryParse(message) is null,
        QueueNames.CalendarChanges => CalendarChangeRequest.Read(message).Value is null,
        _ => ConvergeRequest.TryParse(message) is null,
    };

    /// <summary>The reason the message must be refused with, where the parser decides it.</summary>
    private static string ExpectedReason(BookingEventParser parser, string queue, string message) => queue switch
    {
        QueueNames.BookingEvents or QueueNames.ErasureRequests or QueueNames.NewsletterEvents =>
            parser.Parse(message).Rejection?.Reason ?? RejectionReasons.UnknownType,
        _ => RejectionReasons.InvalidField,
    };

    private static void CheckPoison(string queue, List<string> inputs, Outcome[] outcomes, List<(PoisonEnvelope Envelope, string Digest)> poisoned, ConcurrentQueue<string> problems)
    {
        var oracle = new BookingEventParser(TimeProvider.System);
        var refused = Enumerable.Range(0, inputs.Count).Where(i => outcomes[i].Kind == Refused).ToList();
        foreach (var (envelope, _) in poisoned)
        {
            if (envelope.SourceQueue != queue || !KnownReasons.Contains(envelope.Reason) || Junk.HasMarker(envelope.Detail) || Junk.HasMarker(envelope.CorrelationId))
            {
                problems.Enqueue($"envelope from {envelope.SourceQueue} with reason '{FuzzSettings.Show(envelope.Reason)}', detail '{FuzzSettings.Show(envelope.Detail)}', correlation '{FuzzSettings.Show(envelope.CorrelationId)}'");
            }
        }

        if (queue == QueueNames.ZoomEvents)
        {
            // The original is withheld (it can hold a download token); the correlation id is the message id.
            var byId = poisoned.GroupBy(p => p.Envelope.CorrelationId).ToDictionary(g => g.Key, g => g.Count());
            foreach (var i in refused.Where(i => byId.GetValueOrDefault(MessageId(queue, i)) != 1))
            {
                problems.Enqueue($"#{i} refused but poisoned {byId.GetValueOrDefault(MessageId(queue, i))} times: {FuzzSettings.Show(inputs[i])}");
            }

            if (poisoned.Count != refused.Count || poisoned.Any(p => p.Digest != Digest(RecordingEventsHandler.WithheldMessage)))
            {
                problems.Enqueue($"{poisoned.Count} envelopes for {refused.Count} refused messages, or an original was kept");
            }

            return;
        }

        // Exactly once each: the originals in the envelopes, with their reasons, are the refused inputs with theirs.
        var expected = refused.Select(i => (Message: Digest(inputs[i]), Reason: ExpectedReason(oracle, queue, inputs[i]))).ToList();
        var actual = poisoned.Select(p => (Message: p.Digest, p.Envelope.Reason)).ToList();
        var missing = Minus(expected, actual);
        var extra = Minus(actual, expected);
        foreach (var (message, reason) in missing.Take(10))
        {
            problems.Enqueue($"refused ({reason}) but not poisoned with that reason exactly once: {FuzzSettings.Show(message)}");
        }

        foreach (var (message, reason) in extra.Take(10))
        {
            problems.Enqueue($"poisoned ({reason}) more often than refused: {FuzzSettings.Show(message)}");
        }
    }

    /// <summary>
    /// Nothing is written for a refused message (its envelope was taken in memory), and a valid one writes only what its
    /// handler is meant to: intake a Bookings row and a converge request per converger, or a forwarded member event; an
    /// erasure its receipt; a subscription its rows and a notice to the mail service.
    /// </summary>
    private static void CheckWrites(string queue, Outcome[] outcomes, StorageDiff diff, ConcurrentQueue<string> problems)
    {
        var count = (string kind) => outcomes.Count(o => o.Kind == kind);
        var expectedQueues = new Dictionary<string, int>();
        var allowedTables = new HashSet<string>();
        switch (queue)
        {
            case QueueNames.BookingEvents:
                var applied = outcomes.Where(o => o.Kind is "applied" or "applied cancel").Select(o => o.Key!).ToHashSet();
                foreach (var converge in QueueNames.ConvergeQueues)
                {
                    // Each converge queue gets what intake said it asked (ConvergeRequests.QueuesFor), and nothing else.
                    expectedQueues[converge] = outcomes.Count(o => o.Asked.Contains(converge));
                }

                expectedQueues[QueueNames.NewsletterEvents] = outcomes.Count(o => o.Kind == "forwarded" && o.Key == QueueNames.NewsletterEvents);
                expectedQueues[QueueNames.ErasureRequests] = outcomes.Count(o => o.Kind == "forwarded" && o.Key == QueueNames.ErasureRequests);
                allowedTables.Add(TableNames.Bookings);
                var written = diff.In(TableNames.Bookings).Select(r => $"{r.PartitionKey}/{r.RowKey}").ToHashSet();
                if (!written.SetEquals(applied))
                {
                    problems.Enqueue($"Bookings rows written ({written.Count}) are not those of the applied events ({applied.Count})");
                }

                break;
            case QueueNames.ErasureRequests:
                allowedTables.Add(TableNames.ErasureReceipts);
                var receipts = outcomes.Where(o => o.Kind.StartsWith("erased", StringComparison.Ordinal)).Select(o => o.Key!).ToHashSet();
                if (!diff.In(TableNames.ErasureReceipts).Select(r => r.RowKey).ToHashSet().SetEquals(receipts))
                {
                    problems.Enqueue("ErasureReceipts rows written are not the receipts of the valid erasure requests");
                }

                // Each erasure's tombstone: keyed like its receipt, and nothing else in Subjects.
                allowedTables.Add(TableNames.Subjects);
                if (!diff.In(TableNames.Subjects).Where(r => r.PartitionKey == "~erased").Select(r => r.RowKey).ToHashSet().SetEquals(receipts)
                    || diff.In(TableNames.Subjects).Any(r => r.PartitionKey != "~erased"))
                {
                    problems.Enqueue("Subjects rows written are not the tombstones of the valid erasure requests");
                }

                // One erasure-completed per erasure run: a repeat of a completed one is told nothing new, two racing runs of one member may both tell.
                var told = diff.QueueDeltas.GetValueOrDefault(QueueNames.SiteNotifications);
                if (told < receipts.Count || told > outcomes.Count(o => o.Kind.StartsWith("erased", StringComparison.Ordinal)))
                {
                    problems.Enqueue($"site-notifications changed by {told}: not one per erasure run ({receipts.Count} erasures)");
                }

                expectedQueues[QueueNames.SiteNotifications] = told;
                break;
            case QueueNames.NewsletterEvents:
                allowedTables.UnionWith([TableNames.Subjects, TableNames.NewsletterSubscriptions]);
                expectedQueues[QueueNames.MailSuppressions] = count($"subscription {StatusChange.Changed}");
                break;
        }

        foreach (var change in diff.Rows.Where(r => !allowedTables.Contains(r.Table)).Take(5))
        {
            problems.Enqueue($"written for a refused or no-op message: {change}");
        }

        foreach (var (name, delta) in diff.QueueDeltas.Where(q => expectedQueues.GetValueOrDefault(q.Key) != q.Value))
        {
            problems.Enqueue($"queue {name} changed by {delta}, expected {expectedQueues.GetValueOrDefault(name)}");
        }

        foreach (var (name, expected) in expectedQueues.Where(q => q.Value != 0 && !diff.QueueDeltas.ContainsKey(q.Key)))
        {
            problems.Enqueue($"queue {name} did not change, expected {expected}");
        }

        foreach (var blob in diff.Blobs.Take(5))
        {
            problems.Enqueue($"blob written: {blob}");
        }
    }

    private static string? BookingKey(string message) =>
        new BookingEventParser(TimeProvider.System).Parse(message).Booking is { } booking ? $"{booking.LecturerId}/{booking.BookingId}" : null;

    private static bool IsCancel(string message) =>
        new BookingEventParser(TimeProvider.System).Parse(message).Booking is { Status: BookingStatus.Cancelled };

    private static string ForwardedTo(string message) =>
        BookingEventIntake.QueueForMemberEvent(new BookingEventParser(TimeProvider.System).Parse(message).Member!.Type);

    /// <summary>Multiset difference: each item of <paramref name="items"/> not matched by one of <paramref name="remove"/>.</summary>
    private static List<T> Minus<T>(IEnumerable<T> items, IEnumerable<T> remove) where T : notnull
    {
        var counts = remove.GroupBy(x => x).ToDictionary(g => g.Key, g => g.Count());
        var left = new List<T>();
        foreach (var item in items)
        {
            if (counts.TryGetValue(item, out var n) && n > 0)
            {
                counts[item] = n - 1;
            }
            else
            {
                left.Add(item);
            }
        }

        return left;
    }
}
