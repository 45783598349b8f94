using Cafetalk.Integrations.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Tests.Telemetry;

public sealed class UrlLoggingCategoriesTests
{
    private sealed class Recorder : ILoggerProvider
    {
        public List<string> Categories { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Recorder owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Categories.Add(category);
        }
    }

    [Fact]
    public void RequestLineAndRedirectCategories_StayOff_EvenWhenTheProviderIsAskedForTraceOfThem()
    {
        var recorder = new Recorder();
        using var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(recorder)
                // What an operator's configuration could say: everything, and these categories by name, for this provider.
                .AddFilter<Recorder>(null, LogLevel.Trace)
                .AddFilter<Recorder>("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Trace)
                .AddFilter("Microsoft.AspNetCore", LogLevel.Trace))
            .SilenceUrlLoggingCategories()
            .BuildServiceProvider();
        var loggers = services.GetRequiredService<ILoggerFactory>();

        loggers.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").LogInformation("Request starting GET /api/newsletter/unsubscribe?t=token");
        loggers.CreateLogger("Microsoft.AspNetCore.Mvc.Infrastructure.RedirectResultExecutor").LogInformation("Executing RedirectResult, redirecting to …&state=s");
        loggers.CreateLogger("Microsoft.AspNetCore.Routing.EndpointMiddleware").LogInformation("Executing endpoint");

        Assert.Equal(["Microsoft.AspNetCore.Routing.EndpointMiddleware"], recorder.Categories);
    }
}
