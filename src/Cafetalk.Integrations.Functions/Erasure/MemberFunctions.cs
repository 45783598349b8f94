using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Cafetalk.Integrations.Functions.Erasure;

/// <summary>Members' rights: the nightly retry of pending erasures, and the disclosure export.</summary>
public sealed class MemberFunctions(MemberErasure erasure, DisclosureExportFlow export, MemberErasureFlow erase, TimeProvider time)
{
    [Function(nameof(ErasureRetry))]
    public async Task ErasureRetry(
        [TimerTrigger("%ErasureRetrySchedule%")] TimerInfo timer,
        CancellationToken cancellationToken) =>
        await erasure.RetryPendingAsync(cancellationToken);

    [Function(nameof(MemberDisclosures))]
    public async Task<IActionResult> MemberDisclosures(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = DisclosureExportFlow.Route)] HttpRequest request,
        string memberId)
    {
        var outcome = await export.ExportAsync(request.Headers[PrivacyOfficeCredential.HeaderName], memberId, request.Query["format"].FirstOrDefault(),
            request.Query["lang"].FirstOrDefault(), request.HttpContext.RequestAborted);
        return outcome.ToResult(request);
    }

    [Function(nameof(PrivacyOfficeErasure))]
    public async Task<IActionResult> PrivacyOfficeErasure(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = MemberErasureFlow.Route)] HttpRequest request,
        string memberId)
    {
        var body = await RequestBody.ReadAsync(request, MemberErasureFlow.MaxBodyBytes, time, request.HttpContext.RequestAborted);
        var outcome = await erase.RequestAsync(body, request.Headers[PrivacyOfficeCredential.HeaderName], memberId, request.Query["requestId"].FirstOrDefault(),
            request.HttpContext.RequestAborted);
        return outcome.ToResult(request);
    }
}
