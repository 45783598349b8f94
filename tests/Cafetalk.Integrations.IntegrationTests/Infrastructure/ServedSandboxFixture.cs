using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>
/// A private Sandbox with the HTTP functions served on a local Kestrel server in front of it, as
/// <c>serve --sandbox</c> runs them: real HTTP, real routes read from the function attributes.
/// </summary>
public sealed class ServedSandboxFixture : IAsyncLifetime
{
    private SandboxEnvironment? _sandbox;
    private LocalFunctionsServer? _server;

    public SandboxEnvironment Sandbox => _sandbox ?? throw new InvalidOperationException("The Sandbox has not started.");

    public LocalFunctionsServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

    public IServiceProvider Services => Server.Services;

    public StorageAccount Storage => StorageAccount.FromConnectionString(Sandbox.StorageConnectionString);

    public async Task InitializeAsync()
    {
        _sandbox = await SandboxEnvironment.StartAsync();
        _server = await LocalFunctionsServer.StartAsync(baseUrl =>
        {
            _sandbox.PublicBaseUrl = baseUrl;
            return _sandbox.Settings();
        });
        LogCapture.Plant("function-key", _server.FunctionKey);
    }

    /// <summary>A client that shows redirects instead of following them, and keeps no cookies unless asked.</summary>
    public HttpClient CreateClient() => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Server.BaseUrl };

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_sandbox is not null)
        {
            await _sandbox.DisposeAsync();
        }
    }
}
