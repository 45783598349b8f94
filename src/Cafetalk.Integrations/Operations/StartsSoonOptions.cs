using System.ComponentModel.DataAnnotations;

namespace Cafetalk.Integrations.Operations;

/// <summary>Settings of section <c>StartsSoon</c>: how far ahead the frequent check looks for lessons not ready to start.</summary>
public sealed class StartsSoonOptions
{
    public const string SectionName = "StartsSoon";

    /// <summary>The name of the app setting that holds the check's NCRONTAB schedule (every 10 minutes in Azure).</summary>
    public const string ScheduleSetting = "StartsSoonSchedule";

    /// <summary>Lessons starting within this much of now are checked: long enough for someone to act on the alert.</summary>
    [Range(typeof(TimeSpan), "00:10:00", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(2);
}
