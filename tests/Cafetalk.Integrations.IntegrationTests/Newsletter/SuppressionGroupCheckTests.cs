using Cafetalk.Integrations.Cli.Serving;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Newsletter;

/// <summary>
/// SendGrid adds an address sent to a group that does not exist to its global suppression list
/// (sendgrid.contract.json, fact unknown-group-suppresses-globally): a wrong Newsletter__SuppressionGroups__{list}
/// must stop the app at start, and no suppression may ever be sent to such a group.
/// </summary>
public sealed class SuppressionGroupCheckTests(SandboxFixture fixture) : IClassFixture<SandboxFixture>
{
    private const string List = "cafetalk-news";
    private const int MissingGroup = 999;
    private const string Setting = "Newsletter__SuppressionGroups__cafetalk-news";

    private Dictionary<string, string?> SettingsWith(int groupId) =>
        new(fixture.Sandbox.Settings()) { [$"Newsletter:SuppressionGroups:{List}"] = groupId.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private ServiceProvider CreateServices(int groupId)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(SettingsWith(groupId)).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddCafetalkIntegrationsCore(configuration);
        services.AddLogging(logging => LogCapture.AddTo(logging));
        return services.BuildServiceProvider();
    }

    private int GroupListRequests => fixture.Sandbox.Mail.Requests.Count(r => r.Method == "GET" && r.Path == "/v3/asm/groups");

    [Fact]
    public async Task Start_WithAGroupTheMailServiceLacks_IsRefused_NamingTheSetting()
    {
        var start = () => LocalFunctionsServer.StartAsync(_ => SettingsWith(MissingGroup));

        var refused = await Assert.ThrowsAsync<SuppressionGroupNotFoundException>(start);

        Assert.Contains($"{Setting} is {MissingGroup}", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("@", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithExistingGroups_LooksThemUpOnce_AndStarts()
    {
        var before = GroupListRequests;

        await using (var server = await LocalFunctionsServer.StartAsync(_ => SettingsWith(SandboxEnvironment.NewsletterGroupId)))
        {
            await server.Services.GetRequiredService<SuppressionGroupCheck>().EnsureAsync();
        }

        Assert.Equal(before + 1, GroupListRequests);
    }

    [Fact]
    public async Task Unsubscribe_ToAGroupTheMailServiceLacks_IsNeverSent_SoNobodyIsSuppressedGlobally()
    {
        await using var services = CreateServices(MissingGroup);
        var (memberId, email) = ($"stu_grp_{Guid.NewGuid():N}"[..24], $"member.{Guid.NewGuid():N}@example.jp");
        Assert.Equal(StatusChange.Changed, await services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, email, List, "ja"), null));
        var subjectRef = (await services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        var store = services.GetRequiredService<NewsletterSubscriptionStore>();
        var unsubscribed = (await store.GetAsync(subjectRef, List))! with { Status = SubscriptionStatus.Unsubscribed };

        var refused = await Assert.ThrowsAsync<SuppressionGroupNotFoundException>(() => services.GetRequiredService<MailSuppressionSync>().SyncAsync(unsubscribed, "test-correlation"));

        Assert.Contains(Setting, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(email, fixture.Sandbox.Mail.GloballySuppressed);
        Assert.DoesNotContain(fixture.Sandbox.Mail.Requests, r => r.Method == "POST" && r.Body.Contains(email, StringComparison.Ordinal));
        Assert.DoesNotContain(await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef), e => e.Outcome == DisclosureOutcome.Intended);
    }
}
