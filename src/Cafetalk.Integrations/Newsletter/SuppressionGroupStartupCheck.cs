using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// Stops the app at start when a configured suppression group does not exist at the mail service. When the service
/// cannot be reached the app starts anyway: <see cref="SuppressionGroupCheck"/> then runs before the first suppression.
/// </summary>
internal sealed class SuppressionGroupStartupCheck(SuppressionGroupCheck check, ILogger<SuppressionGroupStartupCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await check.EnsureAsync(cancellationToken);
        }
        catch (Exception e) when (e is not SuppressionGroupNotFoundException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Could not confirm the newsletter's suppression groups at start ({Reason}); suppressions wait until they are confirmed", e.GetType().Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
