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
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reconcile_AfterTheGroupWasDeleted_IsRefused_WhateverReadingTheMissingGroupAnswers_NobodySuppressedGlobally(bool missingGroupReadsAsEmpty)
    {
        // sendgrid.contract.json: reading a group that does not exist is not specified, so the simulator answers 404 or an empty list.
        var groupId = 7000 + Random.Shared.Next(1000);
        var list = $"gone-{groupId}";
        var mail = fixture.Sandbox.Mail;
        mail.CreateGroup(groupId, list);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>(fixture.Sandbox.Settings())
        {
            [$"Newsletter:SuppressionGroups:{List}"] = SandboxEnvironment.NewsletterGroupId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"Newsletter:SuppressionGroups:{list}"] = groupId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).Build();
        var collection = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        collection.AddCafetalkIntegrationsCore(configuration);
        collection.AddLogging(logging => LogCapture.AddTo(logging));
        await using var services = collection.BuildServiceProvider();
        var (memberId, email) = ($"stu_gone_{Guid.NewGuid():N}"[..24], $"member.{Guid.NewGuid():N}@example.jp");
        Assert.Equal(StatusChange.Changed, await services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, email, list, "ja"), null));
        var subjectRef = (await services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        var store = services.GetRequiredService<NewsletterSubscriptionStore>();
        // This process confirmed the groups; the member then unsubscribed here, and the service was not yet told.
        await services.GetRequiredService<SuppressionGroupCheck>().EnsureAsync();
        await store.SetStatusAsync(subjectRef, list, SubscriptionStatus.Unsubscribed, ConsentSources.OneClick, null);
        mail.DeleteGroup(groupId);
        mail.UnknownGroupReadsAsEmpty = missingGroupReadsAsEmpty;
        try
        {
            var refused = await Assert.ThrowsAsync<SuppressionGroupNotFoundException>(() => services.GetRequiredService<MailSuppressionSync>().ReconcileAsync());

            Assert.Contains($"Newsletter__SuppressionGroups__{list} is {groupId}", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            mail.UnknownGroupReadsAsEmpty = false;
        }

        Assert.DoesNotContain(email, mail.GloballySuppressed);
        Assert.DoesNotContain(mail.Requests, r => r.Path.StartsWith($"/v3/asm/groups/{groupId}/", StringComparison.Ordinal));
        Assert.DoesNotContain(await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef), e => e.Outcome == DisclosureOutcome.Intended);
    }
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Resubscribe_OfAnAddressTheGroupNoLongerHolds_IsDone_Whether404Or204(bool absentRemovalAnswers204)
    {
        // sendgrid.contract.json absent-address-removal-unspecified: the spec documents 204 only.
        var mail = fixture.Sandbox.Mail;
        await using var services = CreateServices(SandboxEnvironment.NewsletterGroupId);
        var (memberId, email) = ($"stu_back_{Guid.NewGuid():N}"[..24], $"member.{Guid.NewGuid():N}@example.jp");
        Assert.Equal(StatusChange.Changed, await services.GetRequiredService<NewsletterSubscriptions>().HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, email, List, "ja"), null));
        var subjectRef = (await services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        var store = services.GetRequiredService<NewsletterSubscriptionStore>();
        // We told the service to suppress the member, who was since taken off the group there; now they resubscribe here.
        await store.MarkMailServiceAsync(subjectRef, List, SubscriptionStatus.Unsubscribed);
        var resubscribed = (await store.GetAsync(subjectRef, List))!;
        Assert.DoesNotContain(email, mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        mail.AbsentAddressRemovalAnswers204 = absentRemovalAnswers204;
        try
        {
            await services.GetRequiredService<MailSuppressionSync>().SyncAsync(resubscribed, "test-correlation");
        }
        finally
        {
            mail.AbsentAddressRemovalAnswers204 = false;
        }

        var removal = Assert.Single(mail.Requests, r => r.Method == "DELETE" && (r.Path.EndsWith(email, StringComparison.Ordinal) || r.Path.EndsWith(Uri.EscapeDataString(email), StringComparison.Ordinal)));
        Assert.Equal(absentRemovalAnswers204 ? 204 : 404, removal.Status);
        Assert.Equal(SubscriptionStatus.Subscribed, (await store.GetAsync(subjectRef, List))!.MailServiceStatus);
        var chain = await services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef);
        Assert.Equal(DisclosureOutcome.Succeeded, chain[^1].Outcome);
    }
}
