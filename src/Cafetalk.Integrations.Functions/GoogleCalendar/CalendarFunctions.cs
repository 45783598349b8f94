using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>The Google Calendar connect routes: the lecturer's browser goes connect → Google → callback; the site calls disconnect.</summary>
public sealed class CalendarFunctions(CalendarConnectEndpoints endpoints)
{
    [Function(nameof(CalendarConnect))]
    public Task<IActionResult> CalendarConnect(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = CalendarConnectEndpoints.ConnectRoute)] HttpRequest request) =>
        endpoints.ConnectAsync(request);

    /// <summary>The confirmation page's form: replacing an existing connection, confirmed by the lecturer.</summary>
    [Function(nameof(CalendarConfirmReplace))]
    public Task<IActionResult> CalendarConfirmReplace(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = CalendarConnectEndpoints.ConnectRoute)] HttpRequest request) =>
        endpoints.ConfirmReplaceAsync(request);

    [Function(nameof(CalendarCallback))]
    public Task<IActionResult> CalendarCallback(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = CalendarConnectEndpoints.CallbackRoute)] HttpRequest request) =>
        endpoints.CallbackAsync(request);

    /// <summary>Server to server from the Cafetalk site, so it needs the function key.</summary>
    [Function(nameof(CalendarDisconnect))]
    public Task<IActionResult> CalendarDisconnect(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = CalendarConnectEndpoints.DisconnectRoute)] HttpRequest request) =>
        endpoints.DisconnectAsync(request);
}

/// <summary>Queue trigger on <c>calendar-converge</c>: makes one booking's calendar event match its desired state.</summary>
public sealed class CalendarConvergeFunction(CalendarConvergeHandler handler)
{
    [Function(nameof(CalendarConvergeFunction))]
    public async Task Run(
        [QueueTrigger(QueueNames.CalendarConverge, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await handler.HandleAsync(message, context.QueueMessageId(), cancellationToken);
}

/// <summary>Timer (<c>%CalendarSyncSchedule%</c>, nightly): restores hand-made changes in every connected lecturer's calendar and converges bookings whose converge message was lost.</summary>
public sealed class CalendarSyncFunction(CalendarNightlySync sync, ILogger<CalendarSyncFunction> logger)
{
    [Function(nameof(CalendarSyncFunction))]
    public async Task Run([TimerTrigger("%" + GoogleCalendarOptions.SyncScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken)
    {
        var report = await sync.RunAsync(cancellationToken);
        logger.LogInformation("Calendar sync done: {Lecturers} lecturer(s), {Restored} event(s) restored, {Repaired} lagging booking(s) converged", report.Lecturers, report.Restored, report.Repaired);
    }
}
