using System.Reflection;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestFramework("Cafetalk.Integrations.IntegrationTests.Infrastructure.LogCaptureTestFramework", "Cafetalk.Integrations.IntegrationTests")]

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>
/// xunit's own framework, plus the log capture: started before the first test, told which test class is running
/// (from before its fixtures start until after they stop, so every line is attributed), and the log scan ordered last.
/// </summary>
public sealed class LogCaptureTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName assemblyName, ISourceInformationProvider sourceInformation, IMessageSink diagnostics)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformation, diagnostics)
    {
#pragma warning disable AZFW0002 // xunit's override is async void; the Functions analyzer does not apply to a test framework.
        protected override async void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions)
        {
            LogCapture.Start();
            using var runner = new AssemblyRunner(TestAssembly, testCases, DiagnosticMessageSink, executionMessageSink, executionOptions);
            await runner.RunAsync();
        }
#pragma warning restore AZFW0002
    }

    private sealed class AssemblyRunner(
        ITestAssembly testAssembly, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnostics, IMessageSink execution, ITestFrameworkExecutionOptions options)
        : XunitTestAssemblyRunner(testAssembly, testCases, diagnostics, execution, options)
    {
        protected override async Task AfterTestAssemblyStartingAsync()
        {
            await base.AfterTestAssemblyStartingAsync();
            TestCollectionOrderer = new ScanLast(TestCollectionOrderer);
        }

        protected override Task<RunSummary> RunTestCollectionAsync(IMessageBus messageBus, ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, CancellationTokenSource cancellationTokenSource) =>
            new CollectionRunner(testCollection, testCases, DiagnosticMessageSink, messageBus, TestCaseOrderer, new ExceptionAggregator(Aggregator), cancellationTokenSource).RunAsync();
    }

    private sealed class CollectionRunner(
        ITestCollection testCollection, IEnumerable<IXunitTestCase> testCases, IMessageSink diagnostics, IMessageBus messageBus,
        ITestCaseOrderer orderer, ExceptionAggregator aggregator, CancellationTokenSource cancellation)
        : XunitTestCollectionRunner(testCollection, testCases, diagnostics, messageBus, orderer, aggregator, cancellation)
    {
        protected override async Task<RunSummary> RunTestClassAsync(ITestClass testClass, IReflectionTypeInfo @class, IEnumerable<IXunitTestCase> testCases)
        {
            LogCapture.ClassStarting(@class.Type);
            try
            {
                return await base.RunTestClassAsync(testClass, @class, testCases);
            }
            finally
            {
                LogCapture.ClassFinished(@class.Type);
            }
        }
    }

    /// <summary>xunit's order for every collection, except that the contract scan and then the log scan come after all of them.</summary>
    private sealed class ScanLast(ITestCollectionOrderer inner) : ITestCollectionOrderer
    {
        public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections)
        {
            var ordered = inner.OrderTestCollections(testCollections).ToList();
            return [.. ordered.Where(c => !IsScan(c)), .. ordered.Where(c => Is(c, Security.ContractScanTests.CollectionName)), .. ordered.Where(c => Is(c, Security.LogScanTests.CollectionName))];
        }

        private static bool IsScan(ITestCollection collection) =>
            Is(collection, Security.LogScanTests.CollectionName) || Is(collection, Security.ContractScanTests.CollectionName);

        private static bool Is(ITestCollection collection, string name) => collection.DisplayName == name;
    }
}
