using System.Security.Cryptography;
using Cafetalk.Integrations.GoogleCalendar;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.GoogleCalendar;

/// <summary>The calendar's timing settings as an operator writes them: a bad value stops the app naming that setting.</summary>
public sealed class CalendarTimingSettingsTests
{
    private static GoogleCalendarOptions Resolve(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["GoogleCalendar:ClientId"] = "client",
            ["GoogleCalendar:ClientSecret"] = "secret",
            ["GoogleCalendar:RedirectUri"] = "https://cafetalk.example/api/calendar/callback",
            ["GoogleCalendar:CurrentTicketKeyId"] = "k1",
            ["GoogleCalendar:TicketKeys:k1"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["GoogleCalendar:EventIdKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            [$"GoogleCalendar:{setting}"] = value,
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<GoogleCalendarOptions>().BindConfiguration(GoogleCalendarOptions.SectionName).ValidateDataAnnotations();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<GoogleCalendarOptions>>().Value;
    }

    [Theory]
    [InlineData("JoinLinkWait", "00:00:00")]
    [InlineData("JoinLinkWait", "00:30:00")]
    [InlineData("InsertClaim", "00:00:30")]
    public void TimingSetting_InRange_IsTaken(string setting, string value)
    {
        var options = Resolve(setting, value);

        Assert.Equal(TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture), (TimeSpan)typeof(GoogleCalendarOptions).GetProperty(setting)!.GetValue(options)!);
    }

    [Theory]
    [InlineData("JoinLinkWait", "00:31:00")]
    [InlineData("JoinLinkWait", "-00:00:01")]
    [InlineData("InsertClaim", "365.00:00:00")]
    [InlineData("InsertClaim", "00:00:00")]
    public void TimingSetting_OutOfRange_FailsNamingIt(string setting, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(setting, value));

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("JoinLinkWait")]
    [InlineData("InsertClaim")]
    public void TimingSetting_NotATimeSpan_FailsNamingIt(string setting)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Resolve(setting, "banana"));

        Assert.Contains($"GoogleCalendar:{setting}", error.Message, StringComparison.Ordinal);
    }
}
