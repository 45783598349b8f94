using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class LedgerRowTests
{
    [Fact]
    public void ComputeHash_SameRowRoundTrippedThroughEntity_IsStable()
    {
        var entity = LedgerRow.ToEntity(Entry());

        Assert.Equal(LedgerRow.ComputeHash(entity), LedgerRow.ComputeHash(LedgerRow.ToEntity(LedgerRow.FromEntity(entity))));
    }

    [Theory]
    [InlineData("RecipientLegalName", "Someone Else LLC")]
    [InlineData("DataItems", "start_time,email")]
    [InlineData("Outcome", "Succeeded")]
    [InlineData("PrevHash", "ff")]
    [InlineData("BookingId", "bk-2")]
    public void ComputeHash_AnyHashedColumnChanged_ChangesTheHash(string column, string value)
    {
        var entity = LedgerRow.ToEntity(Entry());
        var before = LedgerRow.ComputeHash(entity);

        entity[column] = value;

        Assert.NotEqual(before, LedgerRow.ComputeHash(entity));
    }

    [Fact]
    public void ComputeHash_SequenceChanged_ChangesTheHash()
    {
        var entity = LedgerRow.ToEntity(Entry());
        var before = LedgerRow.ComputeHash(entity);

        entity[LedgerRow.Seq] = 2L;

        Assert.NotEqual(before, LedgerRow.ComputeHash(entity));
    }

    [Fact]
    public void ComputeHash_OtherPartition_ChangesTheHash()
    {
        var entity = LedgerRow.ToEntity(Entry());
        var moved = new TableEntity(entity) { PartitionKey = "sub-other" };

        Assert.NotEqual(LedgerRow.ComputeHash(entity), LedgerRow.ComputeHash(moved));
    }

    [Fact]
    public void ComputeHash_KnownRow_IsTheHashExistingChainsWereWrittenWith() =>
        // SHA-256 of the v1 encoding spelled out by hand (["cafetalk-ledger/v1","sub-1","n:1",…,"\u00A74-2-\u2461",…]) and hashed
        // outside .NET (Python hashlib): if this changes, every stored chain stops verifying.
        Assert.Equal("45dd34eda40820a6a5524182b9386869c5935ba8fbcdd3a0ff33272d041f291b", LedgerRow.ComputeHash(LedgerRow.ToEntity(Entry())));

    [Fact]
    public void ComputeHash_IsTheHashOfTheRowsCanonicalEncoding_SoPurgeAnchorsVerify()
    {
        var entity = LedgerRow.ToEntity(Entry());

        Assert.Equal(LedgerRow.HashOfEncoding(LedgerRow.CanonicalEncoding(entity)), LedgerRow.ComputeHash(entity));
    }

    [Fact]
    public void Truncate_SubMillisecondTicks_AreDropped()
    {
        var value = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(9)).AddTicks(12_345);

        var truncated = LedgerRow.Truncate(value);

        Assert.Equal(TimeSpan.Zero, truncated.Offset);
        Assert.Equal(value.UtcTicks - 2_345, truncated.UtcTicks);
    }

    private static LedgerEntry Entry() => new(
        "sub-1", 1, new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero), "Zoom Video Communications, Inc.", "United States",
        "zoom.lesson-meeting", "meeting", "§4-2-②", SubjectRole.Student, ["start_time"], "consent", "consent-1", "bk-1", null,
        "create", DisclosureOutcome.Intended, null, "corr-1", new DateTimeOffset(2029, 1, 2, 3, 4, 5, 678, TimeSpan.Zero),
        LedgerRow.GenesisHash, string.Empty);
}
