using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Cafetalk.Integrations.Cli;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>One line the code under test wrote: a log entry or scope, or a CLI command's stdout or stderr.</summary>
public sealed record CapturedLine(int Number, string TestClass, string Source, string Text);

/// <summary>
/// The whole integration suite's log capture: every logger any test builds (fixtures, the local server, CLI commands run
/// in-process, hand-built services) writes here at Trace with properties, scopes and exceptions; CLI output and child
/// processes' output are added by the tests that run them. Values the tests plant (personal data, keys, tokens) are
/// collected beside it. <see cref="LogScanTests"/> runs last and looks for each planted value in each line.
/// With <c>CAFETALK_LOG_CAPTURE_DIR</c> set (test.sh sets it) the lines also go to <c>log-capture.jsonl</c> there,
/// numbered as the scan reports them.
/// </summary>
public static class LogCapture
{
    public const string DirectoryVariable = "CAFETALK_LOG_CAPTURE_DIR";

    private static readonly Lock Gate = new();
    private static readonly List<CapturedLine> Lines = [];
    private static readonly ConcurrentDictionary<string, string> PlantedByValue = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, byte> Started = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, byte> Finished = new(StringComparer.Ordinal);
    private static readonly StreamWriter? File = OpenFile();
    private static volatile string _currentClass = "(before any test class)";
    private static int _started;

    /// <summary>The one provider every logger in the suite gets.</summary>
    public static ILoggerProvider Provider { get; } = new CaptureProvider();

    /// <summary>A logger factory for code a test builds by hand (instead of NullLogger).</summary>
    public static ILoggerFactory Loggers { get; } = LoggerFactory.Create(b => AddTo(b));

    public static ILogger<T> Logger<T>() => Loggers.CreateLogger<T>();

    /// <summary>Hooks every source in once: the local hosts' loggers, the Sandboxes' secrets, the sample events' personal values.</summary>
    public static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
        {
            return;
        }

        LocalLogging.Attach(Provider);
        SandboxEnvironment.Stopping += sandbox => Plant(sandbox.PlantedSecrets());
        Plant(SampleEvents.Planted);
    }

    /// <summary>Adds the capture to a logging builder, at Trace whatever the builder's own minimum level.</summary>
    public static ILoggingBuilder AddTo(ILoggingBuilder logging)
    {
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider>(Provider));
        logging.Services.Configure<LoggerFilterOptions>(o => o.Rules.Add(new LoggerFilterRule(typeof(CaptureProvider).FullName, null, LogLevel.Trace, null)));
        return logging;
    }

    public static void Plant(string kind, string? value)
    {
        // Short values would match by coincidence (and are no secret); every planted value here is far longer.
        if (value is { Length: >= 5 })
        {
            PlantedByValue.TryAdd(value, kind);
        }
    }

    public static void Plant(IEnumerable<PlantedValue> values)
    {
        foreach (var value in values)
        {
            Plant(value.Kind, value.Value);
        }
    }

    /// <summary>Output a test read from the code under test (a CLI command's stdout or stderr, a child process's lines).</summary>
    public static void Record(string source, string text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            Add(source, text);
        }
    }

    public static IReadOnlyList<CapturedLine> Snapshot()
    {
        lock (Gate)
        {
            return [.. Lines];
        }
    }

    public static IReadOnlyList<PlantedValue> PlantedValues() => [.. PlantedByValue.Select(p => new PlantedValue(p.Value, p.Key))];

    public static IReadOnlySet<string> StartedClasses => Started.Keys.ToHashSet(StringComparer.Ordinal);

    public static IReadOnlySet<string> FinishedClasses => Finished.Keys.ToHashSet(StringComparer.Ordinal);

    internal static void ClassStarting(Type testClass)
    {
        _currentClass = testClass.Name;
        Started.TryAdd(testClass.Name, 0);
    }

    internal static void ClassFinished(Type testClass) => Finished.TryAdd(testClass.Name, 0);

    private static void Add(string source, string text)
    {
        lock (Gate)
        {
            var line = new CapturedLine(Lines.Count + 1, _currentClass, source, text);
            Lines.Add(line);
            File?.WriteLine(JsonSerializer.Serialize(new { n = line.Number, testClass = line.TestClass, source, text }));
        }
    }

    private static StreamWriter? OpenFile()
    {
        var directory = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (string.IsNullOrEmpty(directory))
        {
            return null;
        }

        System.IO.Directory.CreateDirectory(directory);
        return new StreamWriter(Path.Combine(directory, "log-capture.jsonl"), append: false, new UTF8Encoding(false)) { AutoFlush = true };
    }

    private sealed class CaptureProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CaptureLogger(categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class CaptureLogger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            Add("scope", $"{category} scope: {Describe(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder($"{category} {logLevel} [{eventId}]: {formatter(state, exception)}");
            if (Describe(state) is { Length: > 0 } properties)
            {
                text.Append(" | ").Append(properties);
            }

            if (exception is not null)
            {
                // ToString: type, message, stack trace and every inner exception, as a log sink would store them.
                text.Append(" | ").Append(exception);
            }

            Add("log", text.ToString());
        }

        private static string Describe(object? state) => state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join("; ", pairs.Select(p => $"{p.Key}={Value(p.Value)}"))
            : state?.ToString() ?? string.Empty;

        private static string? Value(object? value) => value is System.Collections.IEnumerable items and not string
            ? "[" + string.Join(", ", items.Cast<object?>()) + "]"
            : value?.ToString();
    }
}
