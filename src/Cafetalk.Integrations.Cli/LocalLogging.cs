using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Cli;

/// <summary>
/// How every local host (the commands, <c>serve</c>, <c>demo</c>) logs: one line per entry on stderr, so stdout keeps
/// only what a command prints; at the level the command asks for unless <c>CAFETALK_LOG_LEVEL</c> names another; and
/// to every listener attached in this process at every level (the integration suite's log scan attaches one).
/// </summary>
internal static class LocalLogging
{
    public const string LevelVariable = "CAFETALK_LOG_LEVEL";

    private static readonly Lock Gate = new();
    private static ILoggerProvider[] _listeners = [];

    /// <summary>From now on, every local host built in this process also logs to <paramref name="listener"/>, at Trace.</summary>
    public static void Attach(ILoggerProvider listener)
    {
        lock (Gate)
        {
            _listeners = [.. _listeners, listener];
        }
    }

    public static ILoggingBuilder UseLocalLogging(this ILoggingBuilder logging, LogLevel level)
    {
        var chosen = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable(LevelVariable), ignoreCase: true, out var asked) ? asked : level;
        logging.ClearProviders()
            .AddSimpleConsole(o => (o.SingleLine, o.IncludeScopes) = (true, true))
            .SetMinimumLevel(chosen);
        logging.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        foreach (var listener in _listeners)
        {
            logging.AddProvider(listener);
            var name = listener.GetType().FullName;
            // Listeners hear every level; only a category the app switched off entirely stays off for them too.
            logging.Services.PostConfigure<LoggerFilterOptions>(options =>
            {
                foreach (var off in options.Rules.Where(r => r.ProviderName is null && r.CategoryName is not null && r.LogLevel == LogLevel.None).ToList())
                {
                    options.Rules.Add(new LoggerFilterRule(name, off.CategoryName, LogLevel.None, null));
                }

                options.Rules.Add(new LoggerFilterRule(name, null, LogLevel.Trace, null));
            });
        }

        return logging;
    }
}
