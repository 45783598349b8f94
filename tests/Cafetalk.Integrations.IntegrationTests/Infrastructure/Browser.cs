using Microsoft.Playwright;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright, headless. Playwright never downloads a browser here: the executable
/// is the system one, with the flags that keep it off the network.
/// </summary>
public static class Browser
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: install it with 'apt-get install chromium' (./test.sh does this as root).");
        // A page turn on a loaded CI machine can take longer than Expect's own default of 5 s.
        Assertions.SetDefaultExpectTimeout(30_000);
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return (playwright, browser);
    }
}
