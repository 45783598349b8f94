using System.Security.Cryptography;
using Azure.Data.Tables;
using BenchmarkDotNet.Attributes;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Benchmarks;

/// <summary>
/// The ledger's per-row cost: a row's table entity and SHA-256 over its canonical JSON, as
/// <see cref="DisclosureLedger"/> does for every row it appends and <see cref="LedgerVerifier"/> for every row it reads.
/// </summary>
[MemoryDiagnoser]
public class LedgerRowHashBenchmarks
{
    /// <summary>The row: the lecturer's Intended row for a Zoom meeting create, the most common row there is.</summary>
    public LedgerEntry Row { get; private set; } = null!;

    public TableEntity StoredRow { get; private set; } = null!;

    [GlobalSetup]
    public void Setup()
    {
        var purpose = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.ZoomLessonMeeting);
        // The fields ZoomDisclosures records for the lecturer of a create: the host id, times, time zone, reference.
        Row = TypicalRow(purpose, SubjectRole.Lecturer, ["path:hostId", "start_time", "duration", "timezone", "agenda"]) with
        {
            Seq = 42,
            PrevHash = Convert.ToHexStringLower(SHA256.HashData(Guid.NewGuid().ToByteArray())),
            Hash = string.Empty,
        };
        StoredRow = LedgerRow.ToEntity(Row);
        StoredRow[LedgerRow.Hash] = LedgerRow.ComputeHash(StoredRow);
    }

    /// <summary>An append: the entity the transaction writes, and its hash.</summary>
    [Benchmark(Baseline = true)]
    public string HashNewRow() => LedgerRow.ComputeHash(LedgerRow.ToEntity(Row));

    /// <summary><c>ledger verify</c>: the hash of a row read back from the table.</summary>
    [Benchmark]
    public string RehashStoredRow() => LedgerRow.ComputeHash(StoredRow);

    /// <summary>A ledger row as <see cref="DisclosureLedger"/> drafts it for a Zoom lesson-meeting disclosure.</summary>
    public static LedgerEntry TypicalRow(DisclosurePurpose purpose, SubjectRole role, IReadOnlyList<string> dataItems)
    {
        var now = LedgerRow.Truncate(BenchmarkClock.Now);
        return new LedgerEntry(
            "sub-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), 1, now, purpose.Recipient.LegalName,
            purpose.Recipient.Country, purpose.Id, purpose.Description, purpose.PolicyClause, role, dataItems, purpose.LegalBasis,
            "booking:" + BookingEventParseBenchmarks.BookingId, BookingEventParseBenchmarks.BookingId, ProviderObjectId: null,
            "create", DisclosureOutcome.Intended, IntentSeq: null, Guid.NewGuid().ToString("N"), now.AddYears(DisclosureLedger.RetentionYears),
            LedgerRow.GenesisHash, new string('0', 64));
    }
}
