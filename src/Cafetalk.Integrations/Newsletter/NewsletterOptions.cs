using System.ComponentModel.DataAnnotations;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>Settings of the newsletter flow (section <c>Newsletter</c>).</summary>
public sealed class NewsletterOptions
{
    public const string Section = "Newsletter";

    /// <summary>The public base URL of this app, e.g. https://integrations.cafetalk.com; links are built on it.</summary>
    [Required]
    public Uri PublicBaseUrl { get; set; } = null!;

    /// <summary>The HMAC key that signs new unsubscribe tokens.</summary>
    [Required]
    public string CurrentTokenKeyId { get; set; } = string.Empty;

    /// <summary>Token HMAC keys: key id → base64 of at least 32 bytes. A removed key retires its tokens.</summary>
    [Required]
    [MinLength(1)]
    public Dictionary<string, string> TokenKeys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long the resubscribe button on the unsubscribed page stays usable (its one-time confirmation token).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan ResubscribeConfirmationLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The mail service's suppression group for each list (list → ASM group id).</summary>
    public Dictionary<string, int> SuppressionGroups { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Checks the newsletter settings at start, naming the setting that is wrong and never a key.</summary>
public sealed class NewsletterOptionsValidator : IValidateOptions<NewsletterOptions>
{
    public ValidateOptionsResult Validate(string? name, NewsletterOptions options)
    {
        if (options.PublicBaseUrl is null || !options.PublicBaseUrl.IsAbsoluteUri
            || (options.PublicBaseUrl.Scheme != Uri.UriSchemeHttps && !options.PublicBaseUrl.IsLoopback))
        {
            return ValidateOptionsResult.Fail($"{NewsletterOptions.Section}:PublicBaseUrl must be an absolute https URL (RFC 8058 requires https).");
        }

        if (KeyRing.RingProblem(NewsletterOptions.Section, nameof(options.CurrentTokenKeyId), options.CurrentTokenKeyId, nameof(options.TokenKeys), options.TokenKeys) is { } problem)
        {
            return ValidateOptionsResult.Fail(problem);
        }

        return ValidateOptionsResult.Success;
    }
}
