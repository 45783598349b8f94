using Azure.Data.Tables;
using Cafetalk.Integrations.Bookings;

namespace Cafetalk.Integrations.Tests.Bookings;

/// <summary>
/// The converge loop every provider converger plugs into, against an in-memory <c>Bookings</c> table behind the real
/// SDK: a stand-in provider is told the row's <c>Wanted</c> value, its fact is <c>Told</c>, its claim <c>ClaimedBy</c>.
/// </summary>
public sealed class ConvergeLoopTests
{
    private const string Lecturer = "lec_1";
    private const string Booking = "bk_1";

    private readonly InMemoryBookingsTable _table = new();

    [Fact]
    public async Task Run_ClaimLosesAnETagRace_ReadsAgainOnceAndActsOnce()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        var raced = false;
        _table.BeforeGuardedMerge = _ =>
        {
            if (!raced)
            {
                raced = true;
                _table.WriteBehindTheLoopsBack(Lecturer, Booking, "Other", "x");
            }
        };
        var provider = new StandInProvider();

        var run = await CreateSut().RunAsync(Lecturer, Booking, provider);

        Assert.Equal("told v1", run.Result);
        Assert.True(run.Acted);
        Assert.Equal(["v1"], provider.Calls);
        // Read, claim lost (412), read again, claim won, facts written on the claim's ETag.
        Assert.Equal(["GET -", "PATCH etag", "GET -", "PATCH etag", "PATCH etag"], _table.Requests);
        Assert.Equal("v1", _table.Column(Lecturer, Booking, "Told"));
    }

    [Fact]
    public async Task Run_PlanSaysNothing_NoClaimNoCallNoWrite()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1", ["Told"] = "v1" });
        var provider = new StandInProvider();

        var run = await CreateSut().RunAsync(Lecturer, Booking, provider);

        Assert.Equal("up to date", run.Result);
        Assert.False(run.Acted);
        Assert.Empty(provider.Calls);
        Assert.Equal(["GET -"], _table.Requests);
    }

    [Fact]
    public async Task Run_NoRow_AnswersNoBookingWithoutPlanning()
    {
        var provider = new StandInProvider();

        var run = await CreateSut().RunAsync(Lecturer, Booking, provider);

        Assert.Equal("no booking", run.Result);
        Assert.Null(run.Booking);
        Assert.Equal(0, provider.Plans);
        Assert.Equal(["GET -"], _table.Requests);
    }

    [Fact]
    public async Task Run_ActThrows_NoFactsWritten()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        var provider = new StandInProvider { Failure = new InvalidOperationException("provider down") };

        await Assert.ThrowsAsync<InvalidOperationException>(() => CreateSut().RunAsync(Lecturer, Booking, provider));

        Assert.Equal(["GET -", "PATCH etag"], _table.Requests);
        Assert.Null(_table.Column(Lecturer, Booking, "Told"));
        Assert.Equal("claimed", _table.Column(Lecturer, Booking, "ClaimedBy"));
    }

    [Fact]
    public async Task Run_FactWriteFindsTheRowMoved_FactLandsAndTheLoopReadsAgainBeforeSettling()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        var provider = new StandInProvider();
        // A newer event lands while the provider is called: the fact write's ETag is stale.
        provider.DuringCall = () => _table.WriteBehindTheLoopsBack(Lecturer, Booking, "Other", "newer");

        var run = await CreateSut().RunAsync(Lecturer, Booking, provider);

        // The fact is merged unguarded (it must land), then the row is read again and found matching: the run reports the act.
        Assert.Equal(["GET -", "PATCH etag", "PATCH etag", "PATCH *", "GET -"], _table.Requests);
        Assert.Equal("v1", _table.Column(Lecturer, Booking, "Told"));
        Assert.Equal("told v1", run.Result);
        Assert.True(run.Acted);
        Assert.Single(provider.Calls);
    }

    [Fact]
    public async Task Run_FactWriteFindsTheRowMovedForAConvergerThatSettles_DoesNotReadAgain()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        var provider = new StandInProvider { ReadsAgainWhenRowMoved = false };
        provider.DuringCall = () => _table.WriteBehindTheLoopsBack(Lecturer, Booking, "Other", "newer");

        var run = await CreateSut().RunAsync(Lecturer, Booking, provider);

        Assert.Equal(["GET -", "PATCH etag", "PATCH etag", "PATCH *"], _table.Requests);
        Assert.Equal("told v1", run.Result);
    }

    [Fact]
    public async Task Run_ActAsksToReadAgain_RecordsItsFactThenPlansOnANewRead()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        // The first act finds its plan's ground gone (as a lease released, a meeting found deleted): its fact is recorded, then the loop looks again.
        var provider = new StandInProvider { ReadAgainOnce = true };

        var run = await CreateSut().RunAsync(Lecturer, Booking, provider);

        Assert.Equal(["v1", "v1"], provider.Calls);
        Assert.Equal(["GET -", "PATCH etag", "PATCH etag", "GET -", "PATCH etag", "PATCH etag"], _table.Requests);
        Assert.Equal("told v1", run.Result);
        Assert.Equal("v1", _table.Column(Lecturer, Booking, "Told"));
    }

    [Fact]
    public async Task Run_EveryClaimLosesItsRace_GivesUpAfterBookingConflictRetrysAttempts()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        _table.BeforeGuardedMerge = _ => _table.WriteBehindTheLoopsBack(Lecturer, Booking, "Other", "x");
        var provider = new StandInProvider();

        var thrown = await Assert.ThrowsAsync<BookingStateConflictException>(() => CreateSut().RunAsync(Lecturer, Booking, provider));

        Assert.Equal(Booking, thrown.BookingId);
        Assert.Equal(BookingConflictRetry.MaxAttempts, _table.Count("GET"));
        Assert.Empty(provider.Calls);
    }

    [Fact]
    public async Task Run_FromASnapshotAlreadyRead_PlansOnItWithoutReadingAgainAndReadsByKeyAfterALostClaim()
    {
        _table.Add(Lecturer, Booking, new Dictionary<string, string> { ["Wanted"] = "v1" });
        var rows = _table.Rows();
        var found = await rows.ReadAsync(Lecturer, Booking);
        _table.Requests.Clear();
        // The row moves after the caller's read (as the archiver's query result can be stale): the claim loses once.
        _table.WriteBehindTheLoopsBack(Lecturer, Booking, "Other", "x");
        var provider = new StandInProvider();

        var run = await new ConvergeLoop(rows).RunAsync(found!, provider);

        Assert.Equal(["PATCH etag", "GET -", "PATCH etag", "PATCH etag"], _table.Requests);
        Assert.Equal("told v1", run.Result);
        Assert.Equal("v1", _table.Column(Lecturer, Booking, "Told"));
    }

    private ConvergeLoop CreateSut() => new(_table.Rows());

    /// <summary>A provider told the row's <c>Wanted</c> value; its claim and fact are plain columns.</summary>
    private sealed class StandInProvider : IProviderConverger<string, string>
    {
        public List<string> Calls { get; } = [];

        public int Plans { get; private set; }

        public Exception? Failure { get; init; }

        public Action? DuringCall { get; set; }

        public bool ReadAgainOnce { get; set; }

        public string NoBooking => "no booking";

        public bool ReadsAgainWhenRowMoved { get; init; } = true;

        public Task<ConvergePlan<string, string>> PlanAsync(BookingSnapshot booking, CancellationToken cancellationToken)
        {
            Plans++;
            var wanted = booking.Row.GetString("Wanted");
            return Task.FromResult(wanted == booking.Row.GetString("Told")
                ? ConvergePlan.Nothing<string, string>("up to date")
                : ConvergePlan.Act<string, string>(wanted!, new TableEntity(booking.LecturerId, booking.BookingId) { ["ClaimedBy"] = "claimed" }));
        }

        public Task<ConvergeAct<string>> ActAsync(BookingSnapshot booking, string plan, CancellationToken cancellationToken)
        {
            Calls.Add(plan);
            DuringCall?.Invoke();
            DuringCall = null;
            if (Failure is not null)
            {
                throw Failure;
            }

            var readAgain = ReadAgainOnce;
            ReadAgainOnce = false;
            var facts = new TableEntity(booking.LecturerId, booking.BookingId) { ["Told"] = readAgain ? "gone" : plan };
            return Task.FromResult(new ConvergeAct<string>($"told {plan}", facts) { ReadAgain = readAgain });
        }
    }
}
