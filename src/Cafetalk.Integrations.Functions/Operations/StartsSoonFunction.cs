namespace Cafetalk.Integrations.Functions.Operations;

/// <summary>
/// Timer (<c>%StartsSoonSchedule%</c>, every 10 minutes in Azure): lessons starting within <c>StartsSoon:Window</c>
/// get one more converge at Zoom and Google; what is still wrong raises an alert and tells the site.
/// </summary>
public sealed class StartsSoonFunction(StartsSoonCheck check)
{
    [Function(nameof(StartsSoonFunction))]
    public async Task Run([TimerTrigger("%" + StartsSoonOptions.ScheduleSetting + "%")] TimerInfo timer, CancellationToken cancellationToken) =>
        await check.RunAsync(cancellationToken);
}
