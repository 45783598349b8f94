using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// The last handler before the wire on every provider HttpClient: the request must declare a purpose of this
/// client's recipient, use one of its routes, carry only allowlisted field paths (body, query and path values),
/// and be covered by ledger intents for every member whose data it carries. Otherwise nothing is sent.
/// </summary>
public sealed class DisclosureGateHandler(DisclosurePolicy policy, Recipient recipient, ILogger<DisclosureGateHandler> logger) : DelegatingHandler
{
    public Recipient Recipient => recipient;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = request.FindDisclosure();
        var fields = await CheckAsync(request, context, cancellationToken);
        context!.SentFieldPaths = fields;
        return await base.SendAsync(request, cancellationToken);
    }

    private async Task<IReadOnlyList<string>> CheckAsync(HttpRequestMessage request, DisclosureContext? context, CancellationToken cancellationToken)
    {
        if (context is null)
        {
            throw Refuse(null, null, "the request declares no disclosure purpose");
        }

        var purpose = policy.FindPurpose(context.Purpose.Id);
        if (purpose is null || !ReferenceEquals(purpose, context.Purpose))
        {
            throw Refuse(context.Purpose.Id, null, "the purpose is not the one in the policy");
        }

        if (purpose.Recipient != recipient)
        {
            throw Refuse(purpose.Id, null, $"the purpose belongs to recipient '{purpose.Recipient.Key}'");
        }

        var uri = request.RequestUri is { IsAbsoluteUri: true } absolute
            ? absolute
            : throw Refuse(purpose.Id, null, "the request has no absolute URI");

        // The path is never echoed: it may hold an email. Only the method and the fact are reported.
        var route = purpose.Routes.FirstOrDefault(r => r.Matches(request.Method, uri.AbsolutePath))
            ?? throw Refuse(purpose.Id, null, $"no route of this purpose allows {request.Method.Method} to this path");

        IReadOnlyList<string> body;
        try
        {
            body = await RequestFieldPaths.ReadBodyAsync(request.Content, cancellationToken);
        }
        catch (UninspectableBodyException ex)
        {
            throw Refuse(purpose.Id, null, ex.Message);
        }

        var fields = route.Variables.Select(v => "path:" + v).Concat(RequestFieldPaths.FromQuery(uri)).Concat(body).ToList();
        var unlisted = fields.FirstOrDefault(f => purpose.FindField(f) is null);
        if (unlisted is not null)
        {
            throw Refuse(purpose.Id, unlisted, "field not allowlisted for this purpose");
        }

        foreach (var field in fields)
        {
            foreach (var role in DisclosurePurpose.RolesOf(purpose.FindField(field)!.Owner))
            {
                if (!context.Intents.Any(i => i.PurposeId == purpose.Id && i.Role == role))
                {
                    throw Refuse(purpose.Id, field, $"carries {role} data but no {role} ledger intent was recorded for it");
                }
            }
        }

        return fields;
    }

    private DisclosureRefusedException Refuse(string? purposeId, string? fieldPath, string reason)
    {
        logger.LogWarning("Disclosure refused: recipient {Recipient}, purpose {Purpose}, field {FieldPath}: {Reason}", recipient.Key, purposeId, fieldPath, reason);
        return new DisclosureRefusedException(recipient.Key, purposeId, fieldPath, reason);
    }
}
