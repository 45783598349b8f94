using Cafetalk.Integrations.Http;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Disclosure;

/// <summary><c>PrivacyOffice:ApiKey</c>: the key only the privacy office holds (a Key Vault reference in Azure).</summary>
public sealed class PrivacyOfficeOptions
{
    public const string SectionName = "PrivacyOffice";

    /// <summary>At least 32 characters; unset, the privacy-office routes refuse everyone.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>
/// The credential of the privacy-office routes (a member's disclosure export, an erasure), which no other route accepts:
/// a function or host key opens every Function-level route, so on its own it opens neither of these.
/// </summary>
public sealed class PrivacyOfficeCredential(IOptions<PrivacyOfficeOptions> options)
{
    /// <summary>The header the key travels in (never the query: URLs reach logs and telemetry).</summary>
    public const string HeaderName = "X-Cafetalk-Privacy-Office-Key";

    public const int MinimumKeyLength = 32;

    /// <summary>True when the request carried exactly one value of <see cref="HeaderName"/> (<paramref name="headerValues"/>) and it is the configured key.</summary>
    public bool IsPresentedIn(IReadOnlyList<string?> headerValues) => PresentedKey.Matches(headerValues, options.Value.ApiKey, MinimumKeyLength);
}
