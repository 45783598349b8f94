using System.Diagnostics.Metrics;
using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>Requests to each provider by status class, and its 429s; dimensions are the provider key and the status, never a URL or body.</summary>
public sealed class ProviderMetrics
{
    public const string RequestsName = "cafetalk.provider.requests";
    public const string ThrottledName = "cafetalk.provider.throttled";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _throttled;

    public ProviderMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(PipelineMeter.Name);
        _requests = meter.CreateCounter<long>(RequestsName, "{request}", "Requests sent to a provider, per attempt");
        _throttled = meter.CreateCounter<long>(ThrottledName, "{request}", "Provider responses with status 429");
    }

    /// <summary>Records one attempt: <paramref name="statusClass"/> is 2xx..5xx, <c>refused</c> (the gate stopped it) or <c>error</c> (no response).</summary>
    public void Request(string provider, string statusClass, int? statusCode)
    {
        _requests.Add(1,
            new KeyValuePair<string, object?>("provider", provider),
            new KeyValuePair<string, object?>("status_class", statusClass),
            new KeyValuePair<string, object?>("status_code", statusCode));
        if (statusCode == 429)
        {
            _throttled.Add(1, new KeyValuePair<string, object?>("provider", provider));
        }
    }

    public static string StatusClass(int statusCode) => statusCode switch
    {
        >= 100 and < 600 => $"{statusCode / 100}xx",
        _ => "other",
    };
}

/// <summary>Counts each attempt a provider HttpClient makes; reads only the status of the response.</summary>
internal sealed class ProviderRequestMetricsHandler(ProviderMetrics metrics, string provider) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, cancellationToken);
        }
        catch (DisclosureRefusedException)
        {
            metrics.Request(provider, "refused", null);
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            metrics.Request(provider, "error", null);
            throw;
        }

        var status = (int)response.StatusCode;
        metrics.Request(provider, ProviderMetrics.StatusClass(status), status);
        return response;
    }
}

/// <summary>
/// Puts the metrics handler on every gated provider client, named by the gate's recipient. Registered after the gate's
/// filter, so it wraps the gate: the gate stays next to the wire, and refusals are counted too.
/// </summary>
internal sealed class ProviderRequestMetricsFilter(IOptions<DisclosureGateOptions> options, ProviderMetrics metrics) : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        if (builder.Name is not null && options.Value.RecipientsByClientName.TryGetValue(builder.Name, out var recipient))
        {
            builder.AdditionalHandlers.Add(new ProviderRequestMetricsHandler(metrics, recipient.Key));
        }
    };
}
