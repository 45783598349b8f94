using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Abstractions;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Cli.Serving;

/// <summary>
/// The HTTP functions on a local Kestrel server on loopback, with the same core services the Functions app
/// registers. For development and browser tests only; production is Azure Functions.
/// </summary>
public sealed class LocalFunctionsServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LocalFunctionsServer(WebApplication app, Uri baseUrl, string functionKey)
    {
        _app = app;
        BaseUrl = baseUrl;
        FunctionKey = functionKey;
    }

    public Uri BaseUrl { get; }

    /// <summary>The key that routes with AuthorizationLevel.Function require (header x-functions-key or ?code=).</summary>
    public string FunctionKey { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts on 127.0.0.1 (a free port unless one is given); <paramref name="settings"/> receive the server's base URL.</summary>
    public static async Task<LocalFunctionsServer> StartAsync(
        Func<Uri, IReadOnlyDictionary<string, string?>> settings, int port = 0, Action<IServiceCollection>? configure = null,
        LogLevel minimumLevel = LogLevel.Warning, CancellationToken cancellationToken = default)
    {
        // The base URL goes into settings (links in pages, OAuth redirect URIs), so the port is chosen first.
        var chosenPort = port == 0 ? FreePort() : port;
        var baseUrl = new Uri($"http://127.0.0.1:{chosenPort}/");
        var builder = WebApplication.CreateSlimBuilder();
        // Only the settings given count (no appsettings, no environment); the address is set after, so it survives.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings(baseUrl));
        builder.WebHost.UseUrls(baseUrl.ToString().TrimEnd('/'));
        builder.WebHost.ConfigureKestrel(k => ApplyLimits(k.Limits));
        builder.Logging.UseLocalLogging(minimumLevel);
        builder.Services.AddMvcCore();
        builder.Services.AddCafetalkIntegrationsCore(builder.Configuration);
        configure?.Invoke(builder.Services);
        var functionKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var app = builder.Build();
        foreach (var route in FunctionRouteTable.Read())
        {
            app.MapMethods("/api/" + route.Route, route.Methods, context => InvokeAsync(context, route, functionKey)).WithDisplayName(route.Name);
        }

        await app.StartAsync(cancellationToken);
        return new LocalFunctionsServer(app, baseUrl, functionKey);
    }

    /// <summary>
    /// What this server refuses before a function runs: Azure Functions' own URL limit (4 KB) and, stricter than its
    /// 100 MB, 1 MiB of body; headers within 32 KiB, 100 of them, complete within 30 s; bodies and responses moving at
    /// 240 bytes/s at least after a 5 s grace (Kestrel's defaults, set here so they are stated, not assumed). A client
    /// that trickles headers or a body (slowloris) is cut off by these. Tests shorten the times through
    /// <c>Configure&lt;KestrelServerOptions&gt;</c>.
    /// </summary>
    public static void ApplyLimits(KestrelServerLimits limits)
    {
        limits.MaxRequestBodySize = 1024 * 1024;
        // The request line is the method, the URL (at most 4,096 bytes, as Azure Functions allows) and the version.
        limits.MaxRequestLineSize = 4096 + 32;
        limits.MaxRequestHeadersTotalSize = 32 * 1024;
        limits.MaxRequestHeaderCount = 100;
        limits.RequestHeadersTimeout = TimeSpan.FromSeconds(30);
        limits.KeepAliveTimeout = TimeSpan.FromSeconds(130);
        limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
        limits.MinResponseDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task InvokeAsync(HttpContext context, FunctionRoute route, string functionKey)
    {
        if (route.AuthLevel != AuthorizationLevel.Anonymous)
        {
            var given = context.Request.Headers["x-functions-key"].FirstOrDefault() ?? context.Request.Query["code"].FirstOrDefault() ?? string.Empty;
            if (!CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(given), System.Text.Encoding.UTF8.GetBytes(functionKey)))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
        }

        var instance = ActivatorUtilities.GetServiceOrCreateInstance(context.RequestServices, route.Type);
        var arguments = route.Method.GetParameters().Select(p => Bind(p, context)).ToArray();
        var returned = route.Method.Invoke(instance, arguments);
        var result = returned switch
        {
            Task<IActionResult> task => await task,
            IActionResult direct => direct,
            _ => throw new InvalidOperationException($"Function {route.Name} must return IActionResult or Task<IActionResult>."),
        };
        await result.ExecuteResultAsync(new ActionContext(context, context.GetRouteData(), new ActionDescriptor()));
    }

    private static object? Bind(System.Reflection.ParameterInfo parameter, HttpContext context)
    {
        if (parameter.ParameterType == typeof(HttpRequest))
        {
            return context.Request;
        }

        if (parameter.ParameterType == typeof(CancellationToken))
        {
            return context.RequestAborted;
        }

        if (parameter.ParameterType == typeof(string) && context.Request.RouteValues.TryGetValue(parameter.Name!, out var value))
        {
            return value?.ToString();
        }

        throw new InvalidOperationException($"serve cannot bind parameter '{parameter.Name}' of type {parameter.ParameterType.Name}.");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
