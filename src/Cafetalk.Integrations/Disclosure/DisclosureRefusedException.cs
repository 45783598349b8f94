namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// The gate refused a request before anything was sent. The message names the recipient, the purpose and the
/// field path, never a value.
/// </summary>
public sealed class DisclosureRefusedException(string recipientKey, string? purposeId, string? fieldPath, string reason)
    : Exception($"Disclosure to '{recipientKey}' refused ({purposeId ?? "no purpose declared"}): {reason}" + (fieldPath is null ? "." : $": {fieldPath}."))
{
    public string RecipientKey { get; } = recipientKey;

    public string? PurposeId { get; } = purposeId;

    /// <summary>The offending field path (personal-looking keys are masked), or null when the request as a whole was refused.</summary>
    public string? FieldPath { get; } = fieldPath;
}
