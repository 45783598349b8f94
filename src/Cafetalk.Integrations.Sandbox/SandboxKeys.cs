using System.Security.Cryptography;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>Random keys made for one Sandbox run, so local runs and tests need no secret from anywhere.</summary>
public sealed record SandboxKeys(string FieldProtection, string NewsletterToken, string VimeoReference, string CalendarTicket, string CalendarEventId, string PrivacyOffice)
{
    public static SandboxKeys Generate() => new(NewKey(), NewKey(), NewKey(), NewKey(), NewKey(), NewKey());

    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
