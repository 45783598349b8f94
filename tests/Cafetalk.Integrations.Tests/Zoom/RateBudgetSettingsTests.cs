using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Zoom;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Tests.Zoom;

/// <summary>
/// The settings this measuring work added, as an operator writes them, through the app's own registrations: the
/// shared Zoom budget's tuning and the ledger's in-doubt age. A bad value stops the app naming that setting.
/// </summary>
public sealed class RateBudgetSettingsTests
{
    private static ServiceProvider Build(string setting, string value)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Zoom:AccountId"] = "account",
            ["Zoom:ClientId"] = "client",
            ["Zoom:ClientSecret"] = "secret",
            ["Zoom:WebhookSecretToken"] = "webhook-secret",
            ["Zoom:BookingReferenceKey"] = "0123456789abcdef0123",
            ["Zoom:DefaultHostUserId"] = "host",
            [setting] = value,
        }).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddZoom(configuration);
        services.AddDisclosure();
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("Zoom:RateBudgetHeadroom", "0.1")]
    [InlineData("Zoom:RateBudgetBlockSize", "10")]
    [InlineData("Zoom:RateBudgetFallbackInstances", "4")]
    public void ZoomBudgetSetting_InRange_IsTaken(string setting, string value)
    {
        using var provider = Build(setting, value);

        var options = provider.GetRequiredService<IOptions<ZoomOptions>>().Value;

        Assert.Equal(value, typeof(ZoomOptions).GetProperty(setting["Zoom:".Length..])!.GetValue(options)!.ToString());
    }

    [Theory]
    [InlineData("Zoom:RateBudgetHeadroom", "0.9")]
    [InlineData("Zoom:RateBudgetHeadroom", "-0.1")]
    [InlineData("Zoom:RateBudgetBlockSize", "0")]
    [InlineData("Zoom:RateBudgetBlockSize", "51")]
    [InlineData("Zoom:RateBudgetFallbackInstances", "0")]
    public void ZoomBudgetSetting_OutOfRange_FailsNamingIt(string setting, string value)
    {
        using var provider = Build(setting, value);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ZoomOptions>>().Value);

        Assert.Contains(setting["Zoom:".Length..], error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Zoom:RateBudgetHeadroom")]
    [InlineData("Zoom:RateBudgetBlockSize")]
    public void ZoomBudgetSetting_NotANumber_FailsNamingIt(string setting)
    {
        using var provider = Build(setting, "banana");

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<ZoomOptions>>().Value);

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2.00:00:00")]
    [InlineData("-00:01:00")]
    public void LedgerInDoubtAfter_OutOfRange_FailsNamingIt(string value)
    {
        using var provider = Build("Ledger:InDoubtAfter", value);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DisclosureLedgerOptions>>().Value);

        Assert.Contains("InDoubtAfter", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:30")]
    [InlineData("8.00:00:00")]
    public void LedgerDigestMaxAge_OutOfRange_FailsNamingIt(string value)
    {
        using var provider = Build("Ledger:DigestMaxAge", value);

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DisclosureLedgerOptions>>().Value);

        Assert.Contains("DigestMaxAge", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LedgerDigestMaxAge_Unset_IsTwoDigestIntervalsPlusOne()
    {
        using var provider = Build("Ledger:InDoubtAfter", "00:10:00");

        Assert.Equal(TimeSpan.FromMinutes(45), provider.GetRequiredService<IOptions<DisclosureLedgerOptions>>().Value.DigestMaxAge);
    }

    [Fact]
    public void LedgerInDoubtAfter_NotATimeSpan_FailsNamingIt()
    {
        using var provider = Build("Ledger:InDoubtAfter", "ten minutes");

        var error = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IOptions<DisclosureLedgerOptions>>().Value);

        Assert.Contains("Ledger:InDoubtAfter", error.Message, StringComparison.Ordinal);
    }
}
