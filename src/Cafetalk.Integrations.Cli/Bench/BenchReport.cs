namespace Cafetalk.Integrations.Cli.Bench;

/// <summary>One phase of the booking lifecycle run through the whole pipeline (queue → converge → providers → ledger).</summary>
internal sealed record PhaseFigures(
    string Phase,
    int Events,
    double Seconds,
    double EventsPerSecond,
    double TableTransactionsPerEvent,
    double TableBatchesPerEvent,
    double QueueOperationsPerEvent,
    double BlobOperationsPerEvent,
    double StorageOperationsPerEvent,
    double StorageBoundEventsPerSecond,
    double FractionOfStorageBound,
    double StorageBoundEventsPerSecondWithBacklog,
    double FractionOfStorageBoundWithBacklog,
    double AzuriteBusy,
    double ZoomRequestsPerBooking,
    double GoogleRequestsPerBooking,
    int ZoomTokenFetches,
    int GoogleTokenFetches,
    IReadOnlyDictionary<string, double> StorageRequestsPerEventByKind,
    SiteFigures Site);

/// <summary>
/// What the booking system received on <c>site-notifications</c> in a phase, read as it would read it (its own
/// receives and deletes, not counted as the pipeline's): messages by type per event, and messages whose id it had seen.
/// </summary>
internal sealed record SiteFigures(IReadOnlyDictionary<string, double> NotificationsPerEvent, int Redelivered);

/// <summary>
/// Azurite doing nothing but raw operations at the pipeline's parallelism, measured in the same run; queue operations
/// twice: on a near-empty queue, and on a queue holding as many messages as a phase publishes at once.
/// </summary>
internal sealed record StorageBaseline(int Parallelism, double TableOperationsPerSecond, double QueueOperationsPerSecond, int Backlog, double QueueOperationsPerSecondWithBacklog);

internal sealed record PipelineFigures(
    int Bookings,
    int Lecturers,
    int Parallelism,
    StorageBaseline Baseline,
    IReadOnlyList<PhaseFigures> Phases,
    int DuplicateMeetings,
    int DuplicateEvents,
    int FieldsOutsideAllowlist,
    long LedgerRows,
    bool LedgerVerified)
{
    /// <summary>Pool hosts the run placed lessons on (0: every lecturer had their own Zoom user).</summary>
    public int PoolHosts { get; init; }

    /// <summary>Pairs of meetings overlapping on one Zoom host at the end of the run.</summary>
    public int ZoomHostOverlaps { get; init; }
}

/// <summary>600 bookings against Zoom's per-second budget.</summary>
internal sealed record ZoomRateFigures(
    int Bookings,
    int LimitPerSecond,
    int ApiRequests,
    int Throttled,
    double ThrottledFraction,
    double Seconds,
    double AchievedPerSecond,
    double FractionOfLimit,
    int BusiestSecond,
    int MeetingsCreated,
    int BookingsWithoutMeeting,
    int DuplicateMeetings);

internal sealed record NightlySyncFigures(
    int Lecturers,
    int BookingsPerLecturer,
    int ChangedEvents,
    int LecturersWithChanges,
    int GoogleApiRequests,
    int GoogleTokenFetches,
    int ZoomApiRequests,
    int MaxRequestsOfAnUnchangedLecturer,
    int Budget,
    bool WithinBudget,
    int EventsRestored);

internal sealed record NightlyMemoryFigures(int Bookings, long PeakResidentBytes, long PeakResidentBytesAtSmallScale, int SmallScaleBookings, double Seconds, int ZoomBookingsChecked);

/// <summary>
/// One large recording from Zoom's webhook to Vimeo, run twice: in the bench process beside the simulators (the old
/// figure, an upper bound) and in a worker process holding only the zoom-events function, as the Functions worker does.
/// </summary>
internal sealed record RecordingFigures(long Bytes, int ChunkBytes, RecordingRunFigures BenchProcess, RecordingRunFigures WorkerProcess);

/// <summary>
/// One recording's run: throughput, the resident memory of the process it ran in (VmHWM from the kernel, and the
/// most a 20 ms sampler saw), and what crossed the wire to each provider.
/// </summary>
internal sealed record RecordingRunFigures(
    string RanIn,
    double Seconds,
    double MegabytesPerSecond,
    long PeakResidentBytes,
    long PeakResidentSampledBytes,
    long? ResidentBeforeBytes,
    long ManagedBytesAllocated,
    ProcessRuntime Runtime,
    int ZoomApiRequests,
    int ZoomDownloadRequests,
    int ZoomTokenFetches,
    int VimeoApiRequests,
    int VimeoUploadRequests,
    long VimeoReceivedBytes,
    string? VimeoUploadStatus,
    bool ContentIdentical,
    bool ZoomCopyDeleted);

/// <summary>The runtime settings a process ran with (from its runtimeconfig.json) and how often its GC ran gen0.</summary>
internal sealed record ProcessRuntime(bool ServerGarbageCollector, int GcDynamicAdaptationMode, bool GlobalizationInvariant, int Gen0Collections)
{
    public static ProcessRuntime OfThisProcess() => new(
        System.Runtime.GCSettings.IsServerGC,
        Convert.ToInt32(AppContext.GetData("System.GC.DynamicAdaptationMode") ?? 0, System.Globalization.CultureInfo.InvariantCulture),
        AppContext.TryGetSwitch("System.Globalization.Invariant", out var invariant) && invariant,
        GC.CollectionCount(0));
}

internal sealed record BenchReport(PipelineFigures? Pipeline, ZoomRateFigures? ZoomRate, NightlySyncFigures? NightlySync, NightlyMemoryFigures? NightlyMemory, RecordingFigures? Recording, OutsideChangesFigures? OutsideChanges = null);

/// <summary>One run of hand edits: how many, what became of their notifications, and the time from edit to restore (seconds).</summary>
internal sealed record OutsideChangeRun(
    double DropRate,
    int Edits,
    int Notifications,
    int NotificationsDropped,
    int RestoredByPush,
    int LeftForNightly,
    int RestoredByNightly,
    double P50Seconds,
    double P95Seconds,
    double MaxSeconds,
    int GoogleRequests,
    double GoogleRequestsPerNotification,
    int Listings,
    int EventWrites,
    int TokenRefreshes);

internal sealed record OutsideChangesFigures(
    int EditsPerRun,
    int EditedLecturers,
    int QuietLecturers,
    int BookingsPerLecturer,
    double DebounceSeconds,
    double SecondsBetweenEdits,
    IReadOnlyList<OutsideChangeRun> Runs,
    int NightlyRequestsPerQuietLecturerMax,
    int NightlyRequestsPerQuietLecturerMin);
