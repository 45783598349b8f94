using System.Text.RegularExpressions;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Cli;
using Cafetalk.Integrations.Cli.Commands;
using Cafetalk.Integrations.GoogleCalendar;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.Tests.GoogleCalendar;

/// <summary>Connect tickets, event ids, the event payload and the connect-link command.</summary>
public sealed partial class CalendarUnitTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private static IOptions<GoogleCalendarOptions> Options(string keyId = "k1", string? key = null) => Microsoft.Extensions.Options.Options.Create(new GoogleCalendarOptions
    {
        CurrentTicketKeyId = keyId,
        TicketKeys = { [keyId] = key ?? Key },
        EventIdKey = "event-id-key-for-tests",
    });

    private ConnectTickets CreateSut(string keyId = "k1", string? key = null) => new(Options(keyId, key), _time);

    [Fact]
    public void Ticket_RoundTrips_UntilItExpires()
    {
        var tickets = CreateSut();
        var ticket = tickets.Issue("lec_1");

        Assert.Equal("lec_1", tickets.Verify(ticket));
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("lec_1", tickets.Verify(ticket));
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(tickets.Verify(ticket));
    }

    [Theory]
    [InlineData("other-lecturer")]
    [InlineData("later-expiry")]
    [InlineData("other-nonce")]
    [InlineData("nonce-dropped")]
    [InlineData("mac-flipped")]
    [InlineData("unknown-key")]
    [InlineData("truncated")]
    public void Ticket_AnyChange_IsRefused(string change)
    {
        var tickets = CreateSut();
        var parts = tickets.Issue("lec_1").Split('~');
        var forged = change switch
        {
            "other-lecturer" => $"{parts[0]}~lec_2~{parts[2]}~{parts[3]}~{parts[4]}",
            "later-expiry" => $"{parts[0]}~{parts[1]}~{long.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture) + 60}~{parts[3]}~{parts[4]}",
            "other-nonce" => $"{parts[0]}~{parts[1]}~{parts[2]}~{(parts[3][0] == 'A' ? 'B' : 'A')}{parts[3][1..]}~{parts[4]}",
            "nonce-dropped" => $"{parts[0]}~{parts[1]}~{parts[2]}~{parts[4]}",
            "mac-flipped" => $"{parts[0]}~{parts[1]}~{parts[2]}~{parts[3]}~{(parts[4][0] == 'A' ? 'B' : 'A')}{parts[4][1..]}",
            "unknown-key" => $"k9~{parts[1]}~{parts[2]}~{parts[3]}~{parts[4]}",
            _ => string.Join('~', parts[..4]),
        };

        Assert.Null(tickets.Verify(forged));
    }

    [Fact]
    public void Ticket_IssuedTwiceInTheSameSecond_GivesTwoTicketsWithTwoIds()
    {
        var tickets = CreateSut();

        var (first, second) = (tickets.Read(tickets.Issue("lec_1"))!, tickets.Read(tickets.Issue("lec_1"))!);

        Assert.Equal((first.LecturerId, first.ExpiresAtUtc), (second.LecturerId, second.ExpiresAtUtc));
        Assert.NotEqual(first.TicketId, second.TicketId);
    }

    [Fact]
    public void Ticket_InTheFourPartFormWithoutANonce_StillVerifies()
    {
        var expires = (_time.GetUtcNow() + TimeSpan.FromMinutes(5)).ToUnixTimeSeconds();
        var body = $"k1~lec_1~{expires}";
        var mac = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.HMACSHA256.HashData(Convert.FromBase64String(Key), System.Text.Encoding.UTF8.GetBytes(body)));

        Assert.Equal("lec_1", CreateSut().Verify($"{body}~{mac}"));
    }

    [Theory]
    [InlineData(15, true)]
    [InlineData(16, false)]
    [InlineData(60 * 24 * 365 * 10, false)]
    public void Ticket_WhoseSignedExpiryLiesFurtherAheadThanTheCap_IsRefusedUntilWithinIt(int minutes, bool acceptedNow)
    {
        var tickets = CreateSut();
        var ticket = tickets.Issue("lec_1", TimeSpan.FromMinutes(minutes));

        Assert.Equal(acceptedNow, tickets.Verify(ticket) is not null);
        if (!acceptedNow && minutes < 60)
        {
            // Never usable for longer than the cap: only its last 15 minutes.
            _time.Advance(TimeSpan.FromMinutes(minutes - 15));
            Assert.Equal("lec_1", tickets.Verify(ticket));
        }
    }

    [Fact]
    public void Ticket_KeyIdSwappedToAnotherConfiguredKey_IsRefused()
    {
        var options = Options("k1");
        options.Value.TicketKeys["k2"] = Convert.ToBase64String(new byte[32]);
        var tickets = new ConnectTickets(options, _time);
        var ticket = tickets.Issue("lec_1");

        Assert.Equal("lec_1", tickets.Verify(ticket));
        Assert.Null(tickets.Verify("k2" + ticket[2..]));
    }

    [Fact]
    public void Ticket_AnySingleCharacterChanged_IsRefused()
    {
        var tickets = CreateSut();
        var ticket = tickets.Issue("lec_1");

        for (var i = 0; i < ticket.Length; i++)
        {
            var changed = ticket[..i] + (ticket[i] == 'A' ? 'B' : 'A') + ticket[(i + 1)..];
            Assert.Null(tickets.Verify(changed));
        }
    }

    [Fact]
    public void Ticket_SignedUnderAnotherKey_IsRefused()
    {
        var foreign = CreateSut(key: Convert.ToBase64String(new byte[32])).Issue("lec_1");

        Assert.Null(CreateSut().Verify(foreign));
    }

    [Fact]
    public void EventId_IsDeterministicBase32HexAndRevealsNothing()
    {
        var ids = new CalendarEventIds(Options());

        var id = ids.For("bk_12345");

        Assert.Equal(id, ids.For("bk_12345"));
        Assert.NotEqual(id, ids.For("bk_12346"));
        Assert.Matches(EventIdRule(), id);
        Assert.Equal(32, id.Length);
        Assert.DoesNotContain("12345", id, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x00 }, "00")]
    [InlineData(new byte[] { 0xFF }, "vs")]
    [InlineData(new byte[] { 0x66, 0x6F, 0x6F }, "cpnmu")] // RFC 4648 §10: BASE32-HEX("foo") = "CPNMU==="
    public void Base32Hex_MatchesRfc4648(byte[] input, string expected) =>
        Assert.Equal(expected, CalendarEventIds.Base32Hex(input));

    [Fact]
    public void Payload_IsNeutralPrivateInTheLecturersZone_WithNoAttendees()
    {
        var desired = new DesiredState("bk_1", "lec_1", 1, BookingStatus.Confirmed, "stu_1", new DateTimeOffset(2030, 7, 1, 10, 0, 0, TimeSpan.Zero), 50, "Asia/Tokyo", new RecordingConsent(true, true), "e1");

        var e = CalendarEventPayload.Build(desired, "Cafetalk lesson", null, "abcdefgh");

        Assert.Equal(("2030-07-01T19:00:00+09:00", "2030-07-01T19:50:00+09:00", "Asia/Tokyo"), (e.Start!.DateTimeRaw, e.End!.DateTimeRaw, e.Start.TimeZone));
        Assert.Equal(("private", "Cafetalk lesson", "confirmed"), (e.Visibility, e.Summary, e.Status));
        Assert.Null(e.Description);
        Assert.Null(e.Attendees);
        Assert.True(CalendarEventPayload.Matches(new Cafetalk.Integrations.GoogleCalendar.Api.Event
        {
            Status = "confirmed", Summary = "Cafetalk lesson", Visibility = "private",
            Start = new Cafetalk.Integrations.GoogleCalendar.Api.EventDateTime { DateTimeRaw = "2030-07-01T10:00:00Z", TimeZone = "Asia/Tokyo" },
            End = new Cafetalk.Integrations.GoogleCalendar.Api.EventDateTime { DateTimeRaw = "2030-07-01T10:50:00Z", TimeZone = "Asia/Tokyo" },
        }, e));
    }

    [Fact]
    public async Task ConnectLink_PrintsALinkWhoseTicketVerifies()
    {
        var stdout = new StringWriter();
        var environment = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GoogleCalendar:CurrentTicketKeyId"] = "k1",
            ["GoogleCalendar:TicketKeys:k1"] = Key,
            ["GoogleCalendar:RedirectUri"] = "https://integrations.example/api/calendar/callback",
        }).Build();

        var exit = await CalendarCommands.ConnectLink(stdout, environment).Parse(["--lecturer", "lec_cli"]).InvokeAsync();

        Assert.Equal(CliApplication.ExitOk, exit);
        var link = new Uri(stdout.ToString().Trim());
        Assert.Equal("https://integrations.example/api/calendar/connect", link.GetLeftPart(UriPartial.Path));
        var ticket = Uri.UnescapeDataString(link.Query["?ticket=".Length..]);
        Assert.Equal("lec_cli", new ConnectTickets(Options(), TimeProvider.System).Verify(ticket));
    }

    [Theory]
    [InlineData("--lecturer", "bad id!")]
    [InlineData("--minutes", "0")]
    public async Task ConnectLink_BadArguments_ExitTwoWithOneErrorLine(string option, string value)
    {
        var stderr = new StringWriter();
        var args = option == "--lecturer" ? new[] { option, value } : ["--lecturer", "lec_1", option, value];

        var exit = await CliApplication.RunAsync(["connect-link", .. args], new StringWriter(), stderr);

        Assert.Equal(CliApplication.ExitBadArguments, exit);
        Assert.StartsWith("error: ", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectLink_WithoutAKey_ExitsTwoAndSaysWhichSettingIsMissing()
    {
        var stderr = new StringWriter();
        var exit = await CliApplication.RunAsync(["connect-link", "--lecturer", "lec_1", "--base-url", "https://x.example/"], new StringWriter(), stderr);

        Assert.Equal(CliApplication.ExitBadArguments, exit);
        Assert.Contains("GoogleCalendar__CurrentTicketKeyId", stderr.ToString(), StringComparison.Ordinal);
    }

    [GeneratedRegex("^[a-v0-9]{5,1024}$")]
    private static partial Regex EventIdRule();
}
