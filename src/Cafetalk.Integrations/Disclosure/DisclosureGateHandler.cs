using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// The last handler before the wire on every provider HttpClient: the request must declare a purpose of this
/// client's recipient, go to one of its hosts over https (or a loopback simulator origin the Sandbox configured), use
/// one of its routes, carry only allowlisted field paths (body, query and path values), and be covered by ledger
/// intents for every member whose data it carries. Otherwise nothing is sent. The client's primary handler never
/// follows a redirect (<see cref="DisclosureGateFilter"/>), so the checked destination is the only one.
/// </summary>
public sealed class DisclosureGateHandler(DisclosurePolicy policy, Recipient recipient, ILogger<DisclosureGateHandler> logger, IReadOnlyList<Uri>? sandboxOrigins = null) : DelegatingHandler
{
    private readonly IReadOnlyList<Uri> _sandboxOrigins = sandboxOrigins ?? [];

    public Recipient Recipient => recipient;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var context = request.FindDisclosure();
        var fields = await CheckAsync(request, context, cancellationToken);
        context!.SentFieldPaths = fields;
        var response = await base.SendAsync(request, cancellationToken);
        if ((int)response.StatusCode is >= 300 and < 400)
        {
            // Not followed: the body would go to a destination nobody checked. The caller sees a failed call.
            logger.LogWarning("Disclosure: recipient {Recipient} answered {Status} to purpose {Purpose}; the redirect is not followed", recipient.Key, (int)response.StatusCode, context.Purpose.Id);
        }

        return response;
    }

    /// <summary>True for https on the default port to one of the recipient's hosts, or a configured sandbox origin exactly.</summary>
    private bool IsRecipientDestination(Uri uri)
    {
        if (uri.UserInfo.Length > 0)
        {
            return false;
        }

        return (uri.Scheme == Uri.UriSchemeHttps && uri.IsDefaultPort && recipient.Hosts.Contains(uri.IdnHost, StringComparer.OrdinalIgnoreCase))
            || _sandboxOrigins.Any(o => o.Scheme == uri.Scheme && string.Equals(o.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase) && o.Port == uri.Port);
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

        // Neither host nor scheme is echoed: what matters is that it is not the recipient's.
        if (!IsRecipientDestination(uri))
        {
            throw Refuse(purpose.Id, null, $"the destination is not a host of recipient '{recipient.Key}' over https");
        }

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
