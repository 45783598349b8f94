using System.Diagnostics;
using Azure.Storage.Queues.Models;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Operations;
using Cafetalk.Integrations.Recordings;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Vimeo;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.IntegrationTests.Faults;

/// <summary>The converges whose every step a worker is killed at.</summary>
public enum ConvergeKind
{
    ZoomCreate,
    ZoomReschedule,
    ZoomCancel,
    CalendarInsert,
    CalendarPatch,
    CalendarDelete,
    RecordingUpload,
    /// <summary>Intake of a reschedule: the desired state written, then one converge request per provider.</summary>
    IntakeReschedule,
    /// <summary>Intake of a cancellation.</summary>
    IntakeCancel,
}

/// <summary>One Sandbox for the class, with a lecturer connected to Google Calendar.</summary>
public sealed class CrashFixture : IAsyncLifetime
{
    public const string Lecturer = "lec_crash";

    internal FaultHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Harness = await FaultHarness.StartAsync();
        await Harness.ConnectCalendarAsync(Lecturer);
    }

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

/// <summary>
/// A worker killed between a provider call and the state or ledger write, at every step of one converge of each kind.
/// A clean run counts the steps (each provider call once its answer is back, each storage write before it is sent);
/// then for each step k a worker dies at k, the host re-runs the message on a fresh worker, the queues drain, the
/// nightly jobs run, and the booking must have converged with no duplicate and every disclosure closed on the ledger.
/// </summary>
public sealed class CrashAtEveryStepTests(CrashFixture fixture, ITestOutputHelper output) : IClassFixture<CrashFixture>
{
    private static readonly DateTimeOffset Tomorrow = new DateTimeOffset(TimeProvider.System.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero).AddDays(1).AddHours(1);

    private FaultHarness Harness => fixture.Harness;

    public static TheoryData<ConvergeKind> Kinds => [.. Enum.GetValues<ConvergeKind>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Converge_WorkerKilledAtEveryStep_ConvergesWithoutDuplicatesAndClosesEveryDisclosure(ConvergeKind kind)
    {
        var clock = Stopwatch.StartNew();
        var counted = await RunAsync(kind, 0, killAt: 0);
        Assert.True(counted.Steps.Count > 0, $"{kind}: the clean run took no step");
        output.WriteLine($"{kind}: {counted.Steps.Count} steps in a clean run:");
        for (var step = 0; step < counted.Steps.Count; step++)
        {
            output.WriteLine($"  {step + 1,2}. {counted.Steps[step]}");
        }

        var failures = new List<string>();
        var (inDoubtClosed, personalRequests) = (0, 0);
        // One past the last step: the converge finished but the host never deleted the message, so it runs again.
        for (var k = 1; k <= counted.Steps.Count + 1; k++)
        {
            var run = await RunAsync(kind, k, killAt: k);
            (inDoubtClosed, personalRequests) = (inDoubtClosed + run.InDoubtClosed, personalRequests + run.PersonalRequests);
            if (k <= counted.Steps.Count && !run.Died)
            {
                failures.Add($"k={k}: the worker did not reach step {k} ({counted.Steps[k - 1]}); it took {run.Steps.Count} steps");
            }

            failures.AddRange(run.Report.Problems.Select(p => $"k={k} ({(k <= run.Steps.Count ? run.Steps[k - 1] : "after the last step")}): {p}"));
            failures.AddRange(run.QueuesLeft.Select(q => $"k={k}: {q.Value} message(s) left on {q.Key}"));
        }

        output.WriteLine($"{kind}: {counted.Steps.Count + 1} kill points, {personalRequests} personal-data requests checked against the ledger, " +
            $"{inDoubtClosed} in-doubt intent(s) closed by the nightly jobs, {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary>One booking through one converge whose worker dies at <paramref name="killAt"/> (0: never), then recovery and the checks.</summary>
    private async Task<CrashRun> RunAsync(ConvergeKind kind, int index, int killAt)
    {
        var since = TimeProvider.System.GetUtcNow();
        var booking = Booking(kind, index);
        await using var clean = Harness.NewWorker();
        var (queue, message) = await ArrangeAsync(kind, booking, clean);

        var kill = new WorkerKill();
        await using (var doomed = Harness.NewWorker(kill))
        {
            await doomed.GetRequiredService<StorageAccount>().EnsureProvisionedAsync();
            kill.Arm(killAt);
            try
            {
                await HandleAsync(doomed, queue, message);
            }
            catch (Exception) when (kill.Dead)
            {
                // The worker is gone; the host will show the message to another one.
            }
        }

        if (killAt == 0)
        {
            await Harness.SettleAsync(clean);
            return new CrashRun(kill.Steps, false, new InvariantReport(), [], 0, 0);
        }

        // The host's retry: the same message on a fresh worker (a lease still held sends it back to the queue, delayed).
        for (var attempt = 1; ; attempt++)
        {
            await using var retry = Harness.NewWorker();
            try
            {
                await HandleAsync(retry, queue, message);
                break;
            }
            catch (Exception) when (attempt < 5)
            {
                await Task.Delay(300);
            }
        }

        await Harness.SettleAsync(clean);
        var nightly = await clean.GetRequiredService<NightlyJobs>().RunAsync();
        await Harness.SettleAsync(clean);
        var report = await FaultInvariants.CheckAsync(Harness, [booking], since);
        return new CrashRun(kill.Steps, kill.Dead, report, await Harness.NonEmptyQueuesAsync(), nightly.InDoubtDisclosuresClosed, report.PersonalRequests);
    }

    /// <summary>
    /// Brings the booking to the state just before the converge under test, on a clean worker, and takes that converge's
    /// message off its queue (the host holds it); the other queues are left for the pump.
    /// </summary>
    private async Task<(string Queue, string Message)> ArrangeAsync(ConvergeKind kind, ExpectedBooking booking, ServiceProvider clean)
    {
        var subjects = clean.GetRequiredService<SubjectRegistry>();
        await subjects.GetOrCreateAsync(booking.LecturerId);
        await subjects.GetOrCreateAsync(booking.StudentId);
        var original = booking.StartsAtUtc;
        if (kind is ConvergeKind.ZoomCreate or ConvergeKind.CalendarInsert)
        {
            await IngestAsync(clean, booking, EventTypes.BookingConfirmed, 1, original);
        }
        else
        {
            // Confirmed and fully converged first; the change under test comes after.
            var earlier = kind is ConvergeKind.ZoomReschedule or ConvergeKind.CalendarPatch or ConvergeKind.IntakeReschedule ? original.AddMinutes(-30) : original;
            await IngestAsync(clean, booking, EventTypes.BookingConfirmed, 1, earlier);
            await Harness.SettleAsync(clean);
            // Booked days ago: a nightly calendar sync has run since, so tonight's sync sees only what changes from here on.
            await clean.GetRequiredService<CalendarNightlySync>().RunAsync();
            if (kind is ConvergeKind.ZoomReschedule or ConvergeKind.CalendarPatch)
            {
                await IngestAsync(clean, booking, EventTypes.BookingRescheduled, 2, original);
            }
            else if (kind is ConvergeKind.ZoomCancel or ConvergeKind.CalendarDelete)
            {
                await IngestAsync(clean, booking, EventTypes.BookingCancelled, 2, original);
            }
            else if (kind is ConvergeKind.IntakeReschedule or ConvergeKind.IntakeCancel)
            {
                // The booking-events message itself is the one the worker dies on.
                var type = kind == ConvergeKind.IntakeReschedule ? EventTypes.BookingRescheduled : EventTypes.BookingCancelled;
                return (QueueNames.BookingEvents, Event(booking, type, 2, original));
            }
        }

        switch (kind)
        {
            case ConvergeKind.ZoomCreate or ConvergeKind.ZoomReschedule or ConvergeKind.ZoomCancel:
                return (QueueNames.ZoomConverge, await TakeOneAsync(QueueNames.ZoomConverge));
            case ConvergeKind.CalendarInsert or ConvergeKind.CalendarPatch or ConvergeKind.CalendarDelete:
                // Zoom first, so the event carries the join link; then the calendar converge is the one under test.
                foreach (var other in new[] { QueueNames.ZoomConverge, QueueNames.RecordingConverge })
                {
                    foreach (var waiting in await TakeAllAsync(other))
                    {
                        await HandleAsync(clean, other, waiting);
                    }
                }

                return (QueueNames.CalendarConverge, await TakeOneAsync(QueueNames.CalendarConverge));
            case ConvergeKind.RecordingUpload:
                await Harness.SendRecordingsCompletedAsync([booking]);
                return (QueueNames.ZoomEvents, await TakeOneAsync(QueueNames.ZoomEvents));
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "no arrangement");
        }
    }

    private static ExpectedBooking Booking(ConvergeKind kind, int index)
    {
        var confirmed = kind is not (ConvergeKind.ZoomCancel or ConvergeKind.CalendarDelete or ConvergeKind.IntakeCancel);
        // A distinct hour per booking, so two live events of the lecturer never share a start.
        var startsAt = Tomorrow.AddDays((int)kind).AddMinutes(index * 60);
        // A recording's first upload of a lecturer also makes their Vimeo folder: a new lecturer each time keeps the steps the same.
        var lecturer = kind == ConvergeKind.RecordingUpload ? $"lec_crash_rec_{index}" : CrashFixture.Lecturer;
        return new ExpectedBooking(lecturer, $"bk_{kind}_{index:D2}".ToLowerInvariant(), $"stu_crash_{(int)kind}_{index}", confirmed, startsAt, 50, BothConsent: true)
        {
            Recorded = kind == ConvergeKind.RecordingUpload,
        };
    }

    private static async Task IngestAsync(ServiceProvider worker, ExpectedBooking booking, string type, long version, DateTimeOffset startsAt)
    {
        var outcome = await worker.GetRequiredService<BookingEventIntake>().ProcessAsync(Event(booking, type, version, startsAt), null);
        Assert.Equal(IntakeDisposition.Applied, outcome.Disposition);
    }

    private static string Event(ExpectedBooking booking, string type, long version, DateTimeOffset startsAt) =>
        SampleEvents.Booking(type, booking.BookingId, version, startsAt, booking.LecturerId, booking.StudentId, booking.DurationMinutes, "Asia/Tokyo");

    /// <summary>The one converge message the test runs itself; duplicates of it (same booking) are dropped.</summary>
    private async Task<string> TakeOneAsync(string queue)
    {
        var messages = await TakeAllAsync(queue);
        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.Equal(messages[0], m));
        return messages[0];
    }

    private async Task<List<string>> TakeAllAsync(string queue)
    {
        var client = Harness.Storage.Queue(queue);
        var taken = new List<string>();
        while (true)
        {
            QueueMessage[] batch = (await client.ReceiveMessagesAsync(32)).Value;
            if (batch.Length == 0)
            {
                return taken;
            }

            foreach (var message in batch)
            {
                taken.Add(message.Body.ToString());
                await client.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    /// <summary>What the queue function of <paramref name="queue"/> does with a message.</summary>
    private static async Task HandleAsync(IServiceProvider worker, string queue, string message)
    {
        var messageId = Guid.NewGuid().ToString("N");
        switch (queue)
        {
            case QueueNames.BookingEvents:
                await worker.GetRequiredService<BookingEventIntake>().ProcessAsync(message, messageId);
                break;
            case QueueNames.ZoomConverge:
                await worker.GetRequiredService<ZoomConvergeHandler>().HandleAsync(message, messageId);
                break;
            case QueueNames.CalendarConverge:
                await worker.GetRequiredService<CalendarConvergeHandler>().HandleAsync(message, messageId);
                break;
            case QueueNames.RecordingConverge:
                await worker.GetRequiredService<RecordingConvergeHandler>().HandleAsync(message, messageId);
                break;
            case QueueNames.ZoomEvents:
                await worker.GetRequiredService<RecordingEventsHandler>().HandleAsync(message, messageId);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(queue), queue, "no handler");
        }
    }

    private sealed record CrashRun(IReadOnlyList<string> Steps, bool Died, InvariantReport Report, Dictionary<string, int> QueuesLeft, int InDoubtClosed, int PersonalRequests);
}
