using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Benchmarks;

/// <summary>
/// The signature checks at the HTTP edge: newsletter unsubscribe tokens (one-click and the page), Google Calendar
/// connect tickets, and Zoom's webhook signature over a ~2 KiB <c>recording.completed</c> body. Keys are random per run.
/// </summary>
[MemoryDiagnoser]
public class TokenVerifyBenchmarks
{
    public const string Lecturer = "lec_4412";
    public const string NewsletterList = "cafetalk-news";

    private UnsubscribeTokens _unsubscribeTokens = null!;
    private ConnectTickets _connectTickets = null!;
    private ZoomWebhookVerifier _zoomWebhooks = null!;
    private string _zoomSecret = string.Empty;

    public string SubjectRef { get; } = "sub-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public string UnsubscribeToken { get; private set; } = string.Empty;

    /// <summary>The same token with one byte of the pseudonym changed: well-formed, wrong MAC.</summary>
    public string TamperedUnsubscribeToken { get; private set; } = string.Empty;

    public string ConnectTicket { get; private set; } = string.Empty;

    public byte[] WebhookBody { get; private set; } = [];

    public string WebhookTimestamp { get; private set; } = string.Empty;

    public string WebhookSignature { get; private set; } = string.Empty;

    /// <summary>A signature over the same body and timestamp under another secret: what a forger sends.</summary>
    public string ForgedWebhookSignature { get; private set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        // Two keys as during a rotation: tokens name the key they were signed with.
        _unsubscribeTokens = new UnsubscribeTokens(Options.Create(new NewsletterOptions
        {
            PublicBaseUrl = new Uri("https://integrations.cafetalk.test/"),
            CurrentTokenKeyId = "k2",
            TokenKeys = new(StringComparer.Ordinal) { ["k1"] = RandomKey(), ["k2"] = RandomKey() },
        }));
        UnsubscribeToken = _unsubscribeTokens.Issue(SubjectRef, NewsletterList);
        var raw = Base64Url.DecodeFromChars(UnsubscribeToken);
        raw[10] ^= 0x01; // inside the pseudonym: lengths stay valid, so verification gets to the MAC
        TamperedUnsubscribeToken = Base64Url.EncodeToString(raw);

        _connectTickets = new ConnectTickets(Options.Create(new GoogleCalendarOptions
        {
            CurrentTicketKeyId = "k1",
            TicketKeys = new(StringComparer.Ordinal) { ["k1"] = RandomKey() },
        }), BenchmarkClock.Stopped);
        ConnectTicket = _connectTickets.Issue(Lecturer);

        _zoomSecret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        _zoomWebhooks = new ZoomWebhookVerifier(Options.Create(new ZoomOptions { WebhookSecretToken = _zoomSecret }), BenchmarkClock.Stopped);
        WebhookBody = Encoding.UTF8.GetBytes(RecordingCompletedBody());
        WebhookTimestamp = BenchmarkClock.Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        WebhookSignature = SignLikeZoom(_zoomSecret);
        ForgedWebhookSignature = SignLikeZoom(Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16)));
    }

    [Benchmark]
    public UnsubscribeTarget? UnsubscribeTokenValid() => _unsubscribeTokens.Verify(UnsubscribeToken);

    [Benchmark]
    public UnsubscribeTarget? UnsubscribeTokenTampered() => _unsubscribeTokens.Verify(TamperedUnsubscribeToken);

    [Benchmark]
    public string? ConnectTicketValid() => _connectTickets.Verify(ConnectTicket);

    [Benchmark]
    public ZoomSignatureCheck ZoomWebhookValid() => _zoomWebhooks.Verify(WebhookTimestamp, WebhookSignature, WebhookBody);

    [Benchmark]
    public ZoomSignatureCheck ZoomWebhookForged() => _zoomWebhooks.Verify(WebhookTimestamp, ForgedWebhookSignature, WebhookBody);

    private static string RandomKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    // Zoom's scheme, written out here rather than taken from the verifier under test.
    private string SignLikeZoom(string secret)
    {
        var message = Encoding.UTF8.GetBytes($"v0:{WebhookTimestamp}:").Concat(WebhookBody).ToArray();
        return "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    /// <summary>A <c>recording.completed</c> body shaped like Zoom's: four files, each with its URLs, times and size.</summary>
    private static string RecordingCompletedBody()
    {
        const long meetingId = 85_012_345_678;
        var files = new JsonArray();
        foreach (var (type, recordingType, size) in new[]
        {
            ("MP4", "shared_screen_with_speaker_view", 48_213_766L), ("M4A", "audio_only", 11_804_112L),
            ("TIMELINE", "timeline", 2_311L), ("CHAT", "chat_file", 1_024L),
        })
        {
            var fileId = Guid.NewGuid().ToString();
            files.Add(new JsonObject
            {
                ["id"] = fileId,
                ["meeting_id"] = "4444AAAiAAAAAiAiAiiAii==",
                ["recording_start"] = "2027-03-02T10:00:12Z",
                ["recording_end"] = "2027-03-02T10:49:58Z",
                ["file_type"] = type,
                ["file_extension"] = type == "TIMELINE" ? "JSON" : type == "CHAT" ? "TXT" : type,
                ["file_size"] = size,
                ["play_url"] = $"https://zoom.us/rec/play/{fileId}",
                ["download_url"] = $"https://zoom.us/rec/download/{fileId}",
                ["status"] = "completed",
                ["recording_type"] = recordingType,
            });
        }

        return new JsonObject
        {
            ["event"] = "recording.completed",
            ["event_ts"] = BenchmarkClock.Now.ToUnixTimeMilliseconds(),
            ["download_token"] = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(96)),
            ["payload"] = new JsonObject
            {
                ["account_id"] = "AAAAAABBBB",
                ["object"] = new JsonObject
                {
                    ["id"] = meetingId,
                    ["uuid"] = "4444AAAiAAAAAiAiAiiAii==",
                    ["host_id"] = "KDcuGIm1QgePTO8WbOqwIQ",
                    ["host_email"] = "host.person@example.com",
                    ["topic"] = "Cafetalk lesson",
                    ["type"] = 2,
                    ["start_time"] = "2027-03-02T10:00:00Z",
                    ["timezone"] = "Europe/Berlin",
                    ["duration"] = 50,
                    ["total_size"] = 60_021_213,
                    ["recording_count"] = 4,
                    ["share_url"] = "https://zoom.us/rec/share/" + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(48)),
                    ["recording_files"] = files,
                },
            },
        }.ToJsonString();
    }
}
