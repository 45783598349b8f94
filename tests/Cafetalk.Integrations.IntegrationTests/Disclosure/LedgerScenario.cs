using System.Diagnostics.Metrics;
using Azure.Core;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Storage;
using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.IntegrationTests.Disclosure;

/// <summary>Builds ledgers over a Sandbox's storage and the intents a booking's converge would record.</summary>
internal static class LedgerScenario
{
    public static readonly DisclosurePurpose Meeting = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.ZoomLessonMeeting);
    public static readonly DisclosurePurpose Calendar = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.GoogleLessonCalendar);

    public static FakeTimeProvider Time() => new(new DateTimeOffset(2026, 3, 1, 9, 0, 0, TimeSpan.Zero));

    /// <summary>A ledger with its own head cache, as another process would have.</summary>
    public static DisclosureLedger Ledger(StorageAccount storage, TimeProvider time) =>
        new(storage, TestErasureKeys.Registry(storage, time), time, new LedgerMetrics(Meters), LogCapture.Logger<DisclosureLedger>());

    private static IMeterFactory Meters { get; } = new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<IMeterFactory>();

    public static LedgerVerifier Verifier(StorageAccount storage, TimeProvider? time = null) => new(storage, new LedgerDigests(storage, time ?? Time()), time ?? Time());

    public static DisclosureIntent Intent(DisclosurePurpose purpose, string memberId, SubjectRole role, string bookingId, string correlationId = "corr-1") =>
        new(purpose, "create", memberId, role, $"consent-{bookingId}", correlationId, bookingId);

    /// <summary>The intents of one confirmed booking: a Zoom meeting and a calendar event, each for lecturer and student.</summary>
    public static IReadOnlyList<DisclosureIntent> BookingConfirmed(string lecturerId, string studentId, string bookingId) =>
    [
        Intent(Meeting, lecturerId, SubjectRole.Lecturer, bookingId),
        Intent(Meeting, studentId, SubjectRole.Student, bookingId),
        Intent(Calendar, lecturerId, SubjectRole.Lecturer, bookingId),
        Intent(Calendar, studentId, SubjectRole.Student, bookingId),
    ];

    /// <summary>
    /// Empties the ledger table and the digest log: for classes whose tests break the ledger on purpose, since a digest
    /// (and a purge) now refuses over any broken chain, another test's included.
    /// </summary>
    public static async Task ResetAsync(StorageAccount storage)
    {
        await storage.EnsureProvisionedAsync();
        var table = storage.Table(TableNames.DisclosureLedger);
        await foreach (var row in table.QueryAsync<TableEntity>(select: ["PartitionKey", "RowKey"]))
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey);
        }

        var container = storage.BlobContainer(BlobContainerNames.LedgerDigests);
        await foreach (var blob in container.GetBlobsAsync())
        {
            await container.DeleteBlobAsync(blob.Name);
        }
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    /// <summary>
    /// Gives the CLI, through the environment as an operator's shell would, the erasure keys the ledgers built here use:
    /// `ledger verify` checks the member mappings with the member key, `ledger export` the member's mapping.
    /// </summary>
    public static void UseTestErasureKeysInCli()
    {
        Environment.SetEnvironmentVariable("Erasure__MemberKey", TestErasureKeys.Options.Value.MemberKey);
        Environment.SetEnvironmentVariable("Erasure__PrivacyOfficePublicKey", TestErasureKeys.Options.Value.PrivacyOfficePublicKey);
    }
}

/// <summary>Counts requests to the table endpoint, and among them entity-group transactions (<c>$batch</c>).</summary>
internal sealed class TableRequestCounter : RequestObserver
{
    private int _requests;
    private int _transactions;

    public int Requests => Volatile.Read(ref _requests);

    public int Transactions => Volatile.Read(ref _transactions);

    public static (StorageAccount Storage, TableRequestCounter Counter) Attach(string connectionString)
    {
        var counter = new TableRequestCounter();
        var options = new TableClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        return (StorageAccount.FromConnectionString(connectionString, options), counter);
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _transactions, 0);
    }

    protected override void Observe(HttpMessage message)
    {
        Interlocked.Increment(ref _requests);
        if (message.Request.Uri.Path.EndsWith("/$batch", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _transactions);
        }
    }
}
