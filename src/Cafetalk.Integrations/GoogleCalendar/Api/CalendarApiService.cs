using Google.Apis.Discovery;
using Google.Apis.Requests;
using Google.Apis.Services;
using Google.Apis.Util;

namespace Cafetalk.Integrations.GoogleCalendar.Api;

/// <summary>The Calendar v3 service on Google.Apis core, for the calls we make (the generated package is not available here).</summary>
public sealed class CalendarService(BaseClientService.Initializer initializer) : BaseClientService(initializer)
{
    public override string Name => "calendar";

    public override string BaseUri => BaseUriOverride ?? "https://www.googleapis.com/calendar/v3/";

    public override string BasePath => "calendar/v3/";

    public override IList<string> Features => [];
}

/// <summary>Whom Google tells about an event change: always nobody, there are no attendees.</summary>
public static class SendUpdates
{
    public const string None = "none";
}

/// <summary>A Calendar v3 request: method, path and the parameters it declares.</summary>
public abstract class CalendarRequest<TResponse> : ClientServiceRequest<TResponse>
{
    private readonly string _httpMethod;
    private readonly string _restPath;
    private readonly string _methodName;

    protected CalendarRequest(IClientService service, string httpMethod, string restPath, string methodName)
        : base(service)
    {
        (_httpMethod, _restPath, _methodName) = (httpMethod, restPath, methodName);
#pragma warning disable CA2214 // As the generated requests do: the parameter table must exist before the request is built; overrides only declare names.
        InitParameters();
#pragma warning restore CA2214
    }

    public override string HttpMethod => _httpMethod;

    public override string RestPath => _restPath;

    public override string MethodName => _methodName;

    protected void Declare(string name, string type, bool required) =>
        RequestParameters.Add(name, new Parameter { Name = name, IsRequired = required, ParameterType = type });
}

public sealed class CalendarsInsertRequest(IClientService service, Calendar body)
    : CalendarRequest<Calendar>(service, "POST", "calendars", "insert")
{
    protected override object GetBody() => body;
}

public sealed class CalendarsDeleteRequest(IClientService service, string calendarId)
    : CalendarRequest<string>(service, "DELETE", "calendars/{calendarId}", "delete")
{
    [RequestParameter("calendarId", RequestParameterType.Path)]
    public string CalendarId { get; } = calendarId;

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("calendarId", "path", true);
    }
}

public abstract class EventRequest<TResponse>(IClientService service, string httpMethod, string restPath, string methodName, string calendarId)
    : CalendarRequest<TResponse>(service, httpMethod, restPath, methodName)
{
    [RequestParameter("calendarId", RequestParameterType.Path)]
    public string CalendarId { get; } = calendarId;

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("calendarId", "path", true);
    }
}

public sealed class EventsInsertRequest(IClientService service, Event body, string calendarId)
    : EventRequest<Event>(service, "POST", "calendars/{calendarId}/events", "insert", calendarId)
{
    [RequestParameter("sendUpdates", RequestParameterType.Query)]
    public string? SendUpdates { get; set; }

    protected override object GetBody() => body;

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("sendUpdates", "query", false);
    }
}

public sealed class EventsGetRequest(IClientService service, string calendarId, string eventId)
    : EventRequest<Event>(service, "GET", "calendars/{calendarId}/events/{eventId}", "get", calendarId)
{
    [RequestParameter("eventId", RequestParameterType.Path)]
    public string EventId { get; } = eventId;

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("eventId", "path", true);
    }
}

/// <summary>events.update (PUT): the body replaces the whole event, so a field we do not send (a hand-added guest or text) is cleared.</summary>
public sealed class EventsUpdateRequest(IClientService service, Event body, string calendarId, string eventId)
    : EventRequest<Event>(service, "PUT", "calendars/{calendarId}/events/{eventId}", "update", calendarId)
{
    [RequestParameter("eventId", RequestParameterType.Path)]
    public string EventId { get; } = eventId;

    [RequestParameter("sendUpdates", RequestParameterType.Query)]
    public string? SendUpdates { get; set; }

    protected override object GetBody() => body;

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("eventId", "path", true);
        Declare("sendUpdates", "query", false);
    }
}

public sealed class EventsDeleteRequest(IClientService service, string calendarId, string eventId)
    : EventRequest<string>(service, "DELETE", "calendars/{calendarId}/events/{eventId}", "delete", calendarId)
{
    [RequestParameter("eventId", RequestParameterType.Path)]
    public string EventId { get; } = eventId;

    [RequestParameter("sendUpdates", RequestParameterType.Query)]
    public string? SendUpdates { get; set; }

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("eventId", "path", true);
        Declare("sendUpdates", "query", false);
    }
}

public sealed class EventsListRequest(IClientService service, string calendarId)
    : EventRequest<Events>(service, "GET", "calendars/{calendarId}/events", "list", calendarId)
{
    [RequestParameter("syncToken", RequestParameterType.Query)]
    public string? SyncToken { get; set; }

    [RequestParameter("pageToken", RequestParameterType.Query)]
    public string? PageToken { get; set; }

    [RequestParameter("showDeleted", RequestParameterType.Query)]
    public bool? ShowDeleted { get; set; }

    [RequestParameter("maxResults", RequestParameterType.Query)]
    public int? MaxResults { get; set; }

    protected override void InitParameters()
    {
        base.InitParameters();
        Declare("syncToken", "query", false);
        Declare("pageToken", "query", false);
        Declare("showDeleted", "query", false);
        Declare("maxResults", "query", false);
    }
}

/// <summary>events.watch: a channel that POSTs to our address whenever an event of the calendar changes.</summary>
public sealed class EventsWatchRequest(IClientService service, Channel body, string calendarId)
    : EventRequest<Channel>(service, "POST", "calendars/{calendarId}/events/watch", "watch", calendarId)
{
    protected override object GetBody() => body;
}

/// <summary>channels.stop: ends a channel (id and resourceId); the answer has no body.</summary>
public sealed class ChannelsStopRequest(IClientService service, Channel body)
    : CalendarRequest<string>(service, "POST", "channels/stop", "stop")
{
    protected override object GetBody() => body;
}
