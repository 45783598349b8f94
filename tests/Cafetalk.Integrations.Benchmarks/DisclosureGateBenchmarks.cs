using System.Net;
using System.Net.Http.Headers;
using System.Net.Mime;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cafetalk.Integrations.Benchmarks;

/// <summary>
/// What every provider request pays for the disclosure gate: a Zoom create-meeting request (the body
/// <see cref="ZoomMeetingPayload"/> builds) sent through <see cref="DisclosureGateHandler"/> with the real
/// <see cref="DisclosurePolicy.Cafetalk"/> to an in-memory Zoom, against the same request sent without the gate.
/// </summary>
[MemoryDiagnoser]
public class DisclosureGateBenchmarks
{
    /// <summary>Zoom's create-meeting route for one host; host ids look like this one.</summary>
    public static readonly Uri CreateMeetingUri = new("https://api.zoom.us/v2/users/KDcuGIm1QgePTO8WbOqwIQ/meetings");

    /// <summary>The field a leaking change would add: Zoom's alternative hosts take an email.</summary>
    public const string UnlistedField = "settings.alternative_hosts";

    private readonly InMemoryZoom _zoom = new();
    private HttpMessageInvoker _gated = null!;
    private HttpMessageInvoker _ungated = null!;
    private byte[] _meetingBody = [];
    private byte[] _leakingBody = [];

    /// <summary>The declared purpose and both parties' ledger intents, as <see cref="ZoomDisclosures"/> returns them.</summary>
    public DisclosureContext Context { get; private set; } = null!;

    /// <summary>Requests that reached the in-memory Zoom.</summary>
    public int RequestsOnTheWire => _zoom.Received;

    [GlobalSetup]
    public void Setup()
    {
        var purpose = DisclosurePolicy.Cafetalk.GetPurpose(DisclosurePolicy.PurposeIds.ZoomLessonMeeting);
        Context = DisclosureContext.For(purpose, [Intent(purpose, SubjectRole.Lecturer), Intent(purpose, SubjectRole.Student)]);

        var state = new DesiredState(BookingEventParseBenchmarks.BookingId, "lec_4412", 1, BookingStatus.Confirmed, "stu_90311",
            new DateTimeOffset(2027, 3, 2, 10, 0, 0, TimeSpan.Zero), 50, "Europe/Berlin", new RecordingConsent(true, true), "evt-1");
        _meetingBody = ZoomMeetingPayload.Serialize(ZoomMeetingPayload.Build(state, "cafetalk-ref:" + new string('a', 32)));

        var leaking = JsonNode.Parse(_meetingBody)!;
        leaking["settings"]![UnlistedField["settings.".Length..]] = "anna.schmidt@example.de";
        _leakingBody = Encoding.UTF8.GetBytes(leaking.ToJsonString());

        var gate = new DisclosureGateHandler(DisclosurePolicy.Cafetalk, DisclosurePolicy.Zoom, NullLogger<DisclosureGateHandler>.Instance) { InnerHandler = _zoom };
        _gated = new HttpMessageInvoker(gate, disposeHandler: false);
        _ungated = new HttpMessageInvoker(_zoom, disposeHandler: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _gated.Dispose();
        _ungated.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<HttpStatusCode> CreateMeetingWithoutGate()
    {
        using var request = CreateMeetingRequest(_meetingBody);
        using var response = await _ungated.SendAsync(request, CancellationToken.None);
        return response.StatusCode;
    }

    [Benchmark]
    public async Task<HttpStatusCode> CreateMeetingGateAllows()
    {
        using var request = CreateMeetingRequest(_meetingBody);
        using var response = await _gated.SendAsync(request, CancellationToken.None);
        return response.StatusCode;
    }

    /// <summary>The refusal path: the same request with one field the policy does not list; returns the refused field.</summary>
    [Benchmark]
    public async Task<string?> CreateMeetingGateRefusesUnlistedField()
    {
        using var request = CreateMeetingRequest(_leakingBody);
        try
        {
            using var response = await _gated.SendAsync(request, CancellationToken.None);
            return null;
        }
        catch (DisclosureRefusedException ex)
        {
            return ex.FieldPath;
        }
    }

    // Built per request as ZoomClient does: a fresh ByteArrayContent the gate buffers and reads.
    private HttpRequestMessage CreateMeetingRequest(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(MediaTypeNames.Application.Json);
        return new HttpRequestMessage(HttpMethod.Post, CreateMeetingUri) { Content = content }.DeclareDisclosure(Context);
    }

    private static DisclosureHandle Intent(DisclosurePurpose purpose, SubjectRole role) =>
        new(LedgerRowHashBenchmarks.TypicalRow(purpose, role, purpose.DataItemsOf(role)));

    /// <summary>Zoom answering 201 from memory: no socket, so only our side of the request is measured.</summary>
    private sealed class InMemoryZoom : HttpMessageHandler
    {
        public int Received { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Received++;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.Created));
        }
    }
}
