using Newtonsoft.Json;

namespace Cafetalk.Integrations.GoogleCalendar.Api;

// The Calendar v3 resources we send and read, named and shaped as Google.Apis.Calendar.v3.Data names them, with only
// the members we use: swapping in the generated package replaces this folder and nothing else.

/// <summary>A calendar (calendars.insert body and answer).</summary>
public sealed class Calendar
{
    [JsonProperty("id")]
    public string? Id { get; set; }

    [JsonProperty("summary")]
    public string? Summary { get; set; }

    [JsonProperty("timeZone")]
    public string? TimeZone { get; set; }
}

/// <summary>An event's start or end: an RFC 3339 instant with its IANA zone.</summary>
public sealed class EventDateTime
{
    [JsonProperty("dateTime")]
    public string? DateTimeRaw { get; set; }

    [JsonProperty("timeZone")]
    public string? TimeZone { get; set; }
}

/// <summary>An event (events.insert / patch body and answer).</summary>
public sealed class Event
{
    [JsonProperty("id")]
    public string? Id { get; set; }

    [JsonProperty("status")]
    public string? Status { get; set; }

    [JsonProperty("summary")]
    public string? Summary { get; set; }

    [JsonProperty("description")]
    public string? Description { get; set; }

    [JsonProperty("start")]
    public EventDateTime? Start { get; set; }

    [JsonProperty("end")]
    public EventDateTime? End { get; set; }

    [JsonProperty("visibility")]
    public string? Visibility { get; set; }

    /// <summary>Read only: we never send attendees, and a hand-added attendee is a change the nightly sync reverts.</summary>
    [JsonProperty("attendees")]
    public IList<object>? Attendees { get; set; }
}

/// <summary>One page of events.list.</summary>
public sealed class Events
{
    [JsonProperty("items")]
    public IList<Event>? Items { get; set; }

    [JsonProperty("nextPageToken")]
    public string? NextPageToken { get; set; }

    [JsonProperty("nextSyncToken")]
    public string? NextSyncToken { get; set; }
}

/// <summary>A notification channel (events.watch body and answer, channels.stop body).</summary>
public sealed class Channel
{
    [JsonProperty("id")]
    public string? Id { get; set; }

    [JsonProperty("type")]
    public string? Type { get; set; }

    [JsonProperty("address")]
    public string? Address { get; set; }

    /// <summary>Our per-channel secret, echoed in X-Goog-Channel-Token on every notification.</summary>
    [JsonProperty("token")]
    public string? Token { get; set; }

    /// <summary>Unix time in milliseconds, as a string (int64 in the discovery document).</summary>
    [JsonProperty("expiration")]
    public string? Expiration { get; set; }

    [JsonProperty("resourceId")]
    public string? ResourceId { get; set; }

    /// <summary>No secret in the default text: the token stays out of logs.</summary>
    public override string ToString() => $"Channel {{ Id = {Id} }}";
}
