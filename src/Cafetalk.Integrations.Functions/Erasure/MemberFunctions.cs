using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Erasure;
using Cafetalk.Integrations.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Cafetalk.Integrations.Functions.Erasure;

/// <summary>Members' rights: erasure requests, the nightly retry of pending erasures, and the disclosure export.</summary>
public sealed class MemberFunctions(ErasureRequests requests, MemberErasure erasure, DisclosureExportEndpoint export, MemberErasureEndpoint erase)
{
    [Function(nameof(MemberErasureRequested))]
    public async Task MemberErasureRequested(
        [QueueTrigger(QueueNames.ErasureRequests, Connection = StorageAccount.SettingName)] string message,
        FunctionContext context,
        CancellationToken cancellationToken) =>
        await requests.HandleAsync(message, context.QueueMessageId(), cancellationToken);

    [Function(nameof(ErasureRetry))]
    public async Task ErasureRetry(
        [TimerTrigger("%ErasureRetrySchedule%")] TimerInfo timer,
        CancellationToken cancellationToken) =>
        await erasure.RetryPendingAsync(cancellationToken);

    [Function(nameof(MemberDisclosures))]
    public Task<IActionResult> MemberDisclosures(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = DisclosureExportEndpoint.Route)] HttpRequest request,
        string memberId) =>
        export.GetAsync(request, memberId);

    [Function(nameof(PrivacyOfficeErasure))]
    public Task<IActionResult> PrivacyOfficeErasure(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = MemberErasureEndpoint.Route)] HttpRequest request,
        string memberId) =>
        erase.PostAsync(request, memberId);
}
