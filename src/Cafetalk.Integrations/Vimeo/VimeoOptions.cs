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

    /// <summary>A personal access token of Cafetalk's Vimeo account; it needs <see cref="VimeoScopes.Required"/> (checked at start through GET /oauth/verify).</summary>
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

    /// <summary>The webhook's download token is used only while it has at least this long left; else a fresh one is asked for.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "12:00:00")]
    public TimeSpan DownloadTokenMinimumValidity { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long a fresh Zoom download token (<c>ttl</c>) is asked to live: one upload attempt's worth.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "7.00:00:00")]
    public TimeSpan FreshDownloadTokenLifetime { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Bytes per tus PATCH, streamed from the download as the request is sent: a failed PATCH costs at most this much to resend.</summary>
    [Range(16 * 1024, 24 * 1024 * 1024)]
    public int UploadChunkBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>Upload attempts per recording (each with a fresh download); after the last, the booking ends <c>UploadFailed</c>.</summary>
    [Range(1, 10)]
    public int MaxUploadAttempts { get; set; } = 3;

    /// <summary>One attempt (download and upload) is given up after this long, so a stalled stream cannot hold a booking forever.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "12:00:00")]
    public TimeSpan UploadAttemptTimeout { get; set; } = TimeSpan.FromHours(3);

    /// <summary>How long an upload holds a booking (renewed while chunks flow); past it, the upload is treated as crashed and resumed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan UploadLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>While Vimeo has every byte but does not yet report the upload complete, the recording is looked at again after this long (Zoom's copy is kept until then).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "06:00:00")]
    public TimeSpan UploadCheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long after the video was made Vimeo may still be transcoding it; past that the upload is tried afresh.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "7.00:00:00")]
    public TimeSpan TranscodeTimeout { get; set; } = TimeSpan.FromHours(6);
}
