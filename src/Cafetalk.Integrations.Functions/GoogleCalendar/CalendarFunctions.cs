using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Functions.GoogleCalendar;

/// <summary>
/// The Google Calendar connect routes: the lecturer's browser goes connect → Google → callback; the site calls disconnect.
/// Each reads the request into the flow's inputs and answers the flow's outcome.
/// </summary>
public sealed class CalendarFunctions(CalendarConnectFlow connect, CalendarCallbackFlow callback, CalendarDisconnectFlow disconnect,
    IOptions<GoogleCalendarOptions> options, TimeProvider time)
{
    [Function(nameof(CalendarConnect))]
    public async Task<IActionResult> CalendarConnect(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = CalendarConnectFlow.ConnectRoute)] HttpRequest request) =>
        (await connect.ConnectAsync(request.Query["ticket"], RequestLanguage.Of(request), request.HttpContext.RequestAborted)).ToResult(request);

    /// <summary>The confirmation page's form: replacing an existing connection, confirmed by the lecturer.</summary>
    [Function(nameof(CalendarConfirmReplace))]
    public async Task<IActionResult> CalendarConfirmReplace(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = CalendarConnectFlow.ConnectRoute)] HttpRequest request)
    {
        var form = await PostedForms.ReadAsync(request, CalendarConnectFlow.MaxConfirmBodyBytes, time, request.HttpContext.RequestAborted);
        var outcome = await connect.ConfirmReplaceAsync(form, SameOriginRequests.IsSameOrigin(request), RequestLanguage.Of(request), request.HttpContext.RequestAborted);
        return outcome.ToResult(request);
    }

    [Function(nameof(CalendarCallback))]
    public async Task<IActionResult> CalendarCallback(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = CalendarCallbackFlow.CallbackRoute)] HttpRequest request)
    {
        var query = request.Query;
        var outcome = await callback.CallbackAsync(request.Cookies[options.Value.StateCookieName], query["state"].ToString(), query["error"].ToString(), query["code"].ToString(),
            RequestLanguage.Of(request), request.HttpContext.RequestAborted);
        return outcome.ToResult(request);
    }

    /// <summary>Server to server from the Cafetalk site, so it needs the function key.</summary>
    [Function(nameof(CalendarDisconnect))]
    public async Task<IActionResult> CalendarDisconnect(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = CalendarDisconnectFlow.DisconnectRoute)] HttpRequest request)
    {
        var body = await RequestBody.ReadAsync(request, CalendarDisconnectFlow.MaxDisconnectBodyBytes, time, request.HttpContext.RequestAborted);
        return (await disconnect.DisconnectAsync(body, request.HttpContext.RequestAborted)).ToResult(request);
    }
}
