using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>
/// Confirms at the mail service that every group in <c>Newsletter:SuppressionGroups</c> exists, once per process and
/// before any address is sent. SendGrid adds an address sent to a group that does not exist to its global
/// suppression list (twilio/sendgrid-oai, AddSuppressionToAsmGroup), so one click would stop all mail from Cafetalk.
/// </summary>
public sealed class SuppressionGroupCheck(MailServiceClient mail, DisclosurePolicy policy, IOptions<NewsletterOptions> options)
{
    private readonly Lock _gate = new();
    private Task? _confirmation;

    /// <summary>Completes once every configured group was seen at the mail service; throws <see cref="SuppressionGroupNotFoundException"/> otherwise.</summary>
    public Task EnsureAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            // A failed or cancelled look-up is asked again next time; a confirmed one holds for the process.
            if (_confirmation is null || _confirmation.IsFaulted || _confirmation.IsCanceled)
            {
                _confirmation = ConfirmAsync(cancellationToken);
            }

            return _confirmation;
        }
    }

    /// <summary>
    /// Asks the mail service again even when this process has confirmed the groups. Reading a group that does not
    /// exist is not specified (404, or an empty list as if nobody were suppressed), so the reconcile, which reads every
    /// group and would re-send each member it thinks missing, must first see that the groups still exist.
    /// </summary>
    public Task ReconfirmAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _confirmation = ConfirmAsync(cancellationToken);
            return _confirmation;
        }
    }

    private async Task ConfirmAsync(CancellationToken cancellationToken)
    {
        if (options.Value.SuppressionGroups.Count == 0)
        {
            return;
        }

        var purpose = policy.GetPurpose(DisclosurePolicy.PurposeIds.NewsletterSuppression);
        var existing = await mail.ListGroupIdsAsync(DisclosureContext.WithoutPersonalData(purpose), cancellationToken);
        var missing = options.Value.SuppressionGroups.Where(g => !existing.Contains(g.Value)).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var settings = string.Join("; ", missing.Select(g => $"{NewsletterOptions.Section}__SuppressionGroups__{g.Key} is {g.Value}"));
            throw new SuppressionGroupNotFoundException(
                $"The mail service has no such suppression group: {settings}. An address added to a group that does not exist is " +
                "suppressed globally (no mail from Cafetalk at all), so no suppression is sent until the setting names an existing group.");
        }
    }
}
