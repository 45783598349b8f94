using Cafetalk.Integrations.Storage;
using System.ComponentModel.DataAnnotations;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>Settings of section <c>Vimeo</c>: the API account, where recordings may be embedded, how long they are kept.</summary>
public sealed class VimeoOptions : ProviderRetryOptions
{
    public VimeoOptions() => AttemptTimeout = TimeSpan.FromSeconds(30);

    public const string SectionName = "Vimeo";

    /// <summary>Where the REST API lives; the Sandbox points it at the simulator.</summary>
    [Required]
    public Uri ApiBaseAddress { get; set; } = new("https://api.vimeo.com/");

    /// <summary>A personal access token of Cafetalk's Vimeo account (scopes: private, upload, edit, delete).</summary>
    [Required(AllowEmptyStrings = false)]
    public string AccessToken { get; set; } = string.Empty;

    /// <summary>Keys the opaque booking and lecturer references written into Vimeo, so they reveal nothing.</summary>
    [Required(AllowEmptyStrings = false)]
    [MinLength(16)]
    public string ReferenceKey { get; set; } = string.Empty;

    /// <summary>The only sites the player may be embedded on (<c>privacy.embed=whitelist</c>), e.g. <c>cafetalk.com</c>.</summary>
    /// <remarks>No default: configuration binding appends to a list, so a default would be doubled by the setting.</remarks>
    [Required]
    [MinLength(1)]
    public List<string> EmbedDomains { get; set; } = [];

    /// <summary>A recording is deleted from Vimeo this long after it was uploaded.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan RecordingRetention { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Vimeo pulls the file some time after the upload is accepted, so the link must stay valid at least this long.</summary>
    [Range(typeof(TimeSpan), "00:05:00", "12:00:00")]
    public TimeSpan PullLinkMinimumValidity { get; set; } = TimeSpan.FromHours(2);

    /// <summary>How long a fresh Zoom download token is asked to live when the webhook's has (nearly) run out.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "7.00:00:00")]
    public TimeSpan FreshDownloadTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long an upload holds a booking; past it, the upload is treated as crashed and looked up before any second one.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan UploadLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>While Vimeo is still pulling, the recording is looked at again after this long (Zoom's copy is kept until then).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "06:00:00")]
    public TimeSpan PullCheckInterval { get; set; } = TimeSpan.FromMinutes(5);
}
