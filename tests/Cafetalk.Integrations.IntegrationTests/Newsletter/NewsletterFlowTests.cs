using System.Net;
using System.Net.Http.Headers;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.IntegrationTests.Infrastructure;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Cafetalk.Integrations.IntegrationTests.Newsletter;

/// <summary>
/// The newsletter routes over real HTTP against Azurite and the mail simulator: what the page answers, what the
/// subscription table, the consent history and the ledger hold, and what reached the mail service.
/// </summary>
public sealed class NewsletterFlowTests(ServedSandboxFixture fixture) : IClassFixture<ServedSandboxFixture>
{
    private const string List = "cafetalk-news";
    private static int _members;

    private NewsletterSubscriptions Subscriptions => fixture.Services.GetRequiredService<NewsletterSubscriptions>();
    private NewsletterSubscriptionStore Store => fixture.Services.GetRequiredService<NewsletterSubscriptionStore>();
    private MailSuppressionSync Sync => fixture.Services.GetRequiredService<MailSuppressionSync>();

    /// <summary>A fresh subscribed member: the event as the booking system sends it, through the handler.</summary>
    private async Task<(string MemberId, string Email, string SubjectRef, Uri Link)> SubscribeAsync(string locale = "ja")
    {
        var n = Interlocked.Increment(ref _members);
        var (memberId, email) = ($"stu_news_{n}_{Guid.NewGuid():N}"[..30], $"member{n}.{Guid.NewGuid():N}@example.jp");
        var change = await Subscriptions.HandleEventAsync(SampleEvents.NewsletterSubscribed(memberId, email, List, locale), null);
        Assert.Equal(StatusChange.Changed, change);
        var subjectRef = (await fixture.Services.GetRequiredService<SubjectRegistry>().FindAsync(memberId))!;
        var headers = await Subscriptions.HeadersAsync(memberId, List);
        return (memberId, email, subjectRef, new Uri(headers.UnsubscribeUrl));
    }

    private static FormUrlEncodedContent OneClick() => new([new("List-Unsubscribe", "One-Click")]);

    private async Task DrainMailQueueAsync()
    {
        var queue = fixture.Storage.Queue(QueueNames.MailSuppressions);
        while ((await queue.ReceiveMessagesAsync(32)).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                await Sync.HandleAsync(message.Body.ToString(), message.MessageId);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
    }

    [Fact]
    public async Task SubscribedEvent_StoresTheEmailSealed_AndRecordsTheConsent()
    {
        var (_, email, subjectRef, _) = await SubscribeAsync();

        var row = (await fixture.Storage.Table(TableNames.NewsletterSubscriptions).GetEntityAsync<TableEntity>(subjectRef, $"sub|{List}")).Value;
        var everything = string.Join("|", row.Select(p => p.Value?.ToString()));
        Assert.DoesNotContain(email, everything, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("v1.sandbox1.", row.GetString("EmailProtected"), StringComparison.Ordinal);
        var history = Assert.Single(await Store.HistoryAsync(subjectRef));
        Assert.Equal(("subscribe", ConsentSources.Event, $"cns_"), (history.Action, history.Source, history.ConsentRecordId![..4]));
    }

    [Fact]
    public async Task NewSubscription_CostsNoMailServiceRequest()
    {
        var (_, email, _, _) = await SubscribeAsync();

        await DrainMailQueueAsync();

        Assert.DoesNotContain(fixture.Sandbox.Mail.Requests, r => Uri.UnescapeDataString(r.Path + r.Body).Contains(email, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Headers_CarryOnlyAnHttpsStyleOneClickLinkWithAnOpaqueToken()
    {
        var (memberId, email, subjectRef, link) = await SubscribeAsync();

        var headers = await Subscriptions.HeadersAsync(memberId, List);

        Assert.Equal("List-Unsubscribe=One-Click", headers.ListUnsubscribePost);
        Assert.Equal($"<{link}>", headers.ListUnsubscribe);
        Assert.StartsWith(fixture.Server.BaseUrl + "api/newsletter/unsubscribe?t=", headers.UnsubscribeUrl, StringComparison.Ordinal);
        foreach (var secret in new[] { memberId, email, subjectRef, "@" })
        {
            Assert.DoesNotContain(secret, headers.ListUnsubscribe, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Get_ShowsTheConfirmationPage_AndUnsubscribesNobody()
    {
        var (_, _, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var response = await http.GetAsync(link);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("配信を停止する", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }

        Assert.Equal(SubscriptionStatus.Subscribed, (await Store.GetAsync(subjectRef, List))!.Status);
        Assert.Equal(["subscribe"], (await Store.HistoryAsync(subjectRef)).Select(h => h.Action));
    }

    [Fact]
    public async Task OneClickPost_UrlEncoded_Unsubscribes200WithoutRedirect_AndTheMailServiceSuppresses()
    {
        var (memberId, email, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();

        using var response = await http.PostAsync(link, OneClick());
        await DrainMailQueueAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Store.GetAsync(subjectRef, List))!.Status);
        Assert.Contains(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        var post = Assert.Single(fixture.Sandbox.Mail.Requests, r => r.Method == "POST" && r.Body.Contains(email, StringComparison.Ordinal));
        Assert.Equal($"{{\"recipient_emails\":[\"{email}\"]}}", post.Body);
        var history = await Store.HistoryAsync(subjectRef);
        Assert.Equal(["subscribe", "unsubscribe"], history.Select(h => h.Action));
        Assert.Equal(ConsentSources.OneClick, history[1].Source);
        var chain = await fixture.Services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef);
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], chain.Select(e => e.Outcome));
        Assert.Equal(["recipient_emails[]"], chain[0].DataItems);
        Assert.True(chain[0].ProvidedAtUtc <= post.ReceivedAtUtc);
        Assert.DoesNotContain(email, string.Join("|", chain.Select(e => e.ToString())), StringComparison.Ordinal);
        _ = memberId;
    }

    [Fact]
    public async Task OneClickPost_Multipart_IsAcceptedToo()
    {
        var (_, _, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();
        using var form = new MultipartFormDataContent { { new StringContent("One-Click"), "List-Unsubscribe" } };

        using var response = await http.PostAsync(link, form);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Store.GetAsync(subjectRef, List))!.Status);
    }

    [Fact]
    public async Task OneClickPost_Repeated_IsIdempotent()
    {
        var (_, email, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();

        for (var i = 0; i < 3; i++)
        {
            using var response = await http.PostAsync(link, OneClick());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await DrainMailQueueAsync();
        Assert.Single(await Store.HistoryAsync(subjectRef), h => h.Action == "unsubscribe");
        Assert.Single(fixture.Sandbox.Mail.Requests, r => r.Method == "POST" && r.Body.Contains(email, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Resubscribe_RecordsConsentAgain_AndTheMailServiceLiftsTheSuppression()
    {
        var (_, email, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();
        (await http.PostAsync(link, OneClick())).Dispose();
        await DrainMailQueueAsync();

        using var response = await ResubscribeButton.PressAsync(http, link);
        await DrainMailQueueAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriptionStatus.Subscribed, (await Store.GetAsync(subjectRef, List))!.Status);
        Assert.DoesNotContain(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        Assert.Single(fixture.Sandbox.Mail.Requests, r => r.Method == "DELETE" && Uri.UnescapeDataString(r.Path).EndsWith(email, StringComparison.Ordinal));
        Assert.Equal(["subscribe", "unsubscribe", "resubscribe"], (await Store.HistoryAsync(subjectRef)).Select(h => h.Action));
    }

    [Theory]
    [InlineData("link-alone")]
    [InlineData("used-confirmation")]
    [InlineData("cross-site")]
    [InlineData("foreign-origin")]
    [InlineData("no-origin")]
    [InlineData("another-members-confirmation")]
    public async Task Resubscribe_WithoutAFreshConfirmationFromOurPage_Is403Problem_AndNothingChanges(string attack)
    {
        var (_, email, subjectRef, link) = await SubscribeAsync();
        var (_, _, _, otherLink) = await SubscribeAsync();
        using var http = fixture.CreateClient();
        (await http.PostAsync(link, OneClick())).Dispose();
        (await http.PostAsync(otherLink, OneClick())).Dispose();
        await DrainMailQueueAsync();
        var confirm = ResubscribeButton.ConfirmToken(await http.GetStringAsync(link))!;
        if (attack == "used-confirmation")
        {
            using var first = await ResubscribeButton.PostAsync(http, link, confirm, ResubscribeButton.SameOrigin(link));
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            (await http.PostAsync(link, OneClick())).Dispose();
            await DrainMailQueueAsync();
        }

        var history = (await Store.HistoryAsync(subjectRef)).Count;
        var mailRequests = fixture.Sandbox.Mail.Requests.Count;
        using var response = attack switch
        {
            "link-alone" => await ResubscribeButton.PostAsync(http, link, null, ResubscribeButton.SameOrigin(link)),
            "cross-site" => await ResubscribeButton.PostAsync(http, link, confirm, ("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")),
            "foreign-origin" => await ResubscribeButton.PostAsync(http, link, confirm, ("Origin", "https://evil.example")),
            "no-origin" => await ResubscribeButton.PostAsync(http, link, confirm),
            "another-members-confirmation" => await ResubscribeButton.PostAsync(http, link, ResubscribeButton.ConfirmToken(await http.GetStringAsync(otherLink)), ResubscribeButton.SameOrigin(link)),
            _ => await ResubscribeButton.PostAsync(http, link, confirm, ResubscribeButton.SameOrigin(link)),
        };
        await DrainMailQueueAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var expectedType = attack is "cross-site" or "foreign-origin" or "no-origin" ? "cross-site" : "confirmation-required";
        Assert.Contains($"https://cafetalk.com/problems/newsletter/{expectedType}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Store.GetAsync(subjectRef, List))!.Status);
        Assert.Equal(history, (await Store.HistoryAsync(subjectRef)).Count);
        Assert.Equal(mailRequests, fixture.Sandbox.Mail.Requests.Count);
        Assert.Contains(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
    }

    [Fact]
    public async Task OneClickFromAMailClient_NeedsNoConfirmationOriginOrCookie_AndOffersNoResubscribeButton()
    {
        var (_, _, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, link) { Content = OneClick() };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Store.GetAsync(subjectRef, List))!.Status);
        Assert.Null(ResubscribeButton.ConfirmToken(await response.Content.ReadAsStringAsync()));
        // The member who opens the link later gets the button, with a confirmation of its own.
        Assert.NotNull(ResubscribeButton.ConfirmToken(await http.GetStringAsync(link)));
    }

    private static string[] BadTokens(string token) =>
    [
        token[..^1],                                   // truncated
        token[..10],                                   // badly truncated
        (token[5] == 'A' ? token[..5] + "B" : token[..5] + "A") + token[6..], // tampered
        string.Empty,
    ];

    [Fact]
    public async Task TamperedTruncatedOrForeignToken_Gets4xx_AndNothingChanges()
    {
        var (_, _, subjectRef, link) = await SubscribeAsync();
        var (_, _, otherRef, _) = await SubscribeAsync();
        var token = Uri.UnescapeDataString(link.Query["?t=".Length..]);
        var foreign = new UnsubscribeTokens(Microsoft.Extensions.Options.Options.Create(new NewsletterOptions
        {
            PublicBaseUrl = fixture.Server.BaseUrl,
            CurrentTokenKeyId = "sandbox1",
            TokenKeys = new() { ["sandbox1"] = Convert.ToBase64String(new byte[32]) },
        })).Issue(otherRef, List);
        using var http = fixture.CreateClient();

        foreach (var bad in BadTokens(token).Append(foreign))
        {
            var target = new Uri(fixture.Server.BaseUrl, $"api/newsletter/unsubscribe?t={Uri.EscapeDataString(bad)}");
            using var get = await http.GetAsync(target);
            using var post = await http.PostAsync(target, OneClick());
            Assert.InRange((int)get.StatusCode, 400, 499);
            Assert.InRange((int)post.StatusCode, 400, 499);
        }

        Assert.Equal(SubscriptionStatus.Subscribed, (await Store.GetAsync(subjectRef, List))!.Status);
        Assert.Equal(SubscriptionStatus.Subscribed, (await Store.GetAsync(otherRef, List))!.Status);
    }

    [Fact]
    public async Task Post_WithoutTheOneClickBody_OrNotAForm_IsRefusedWithProblemDetails()
    {
        var (_, _, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();

        using var empty = await http.PostAsync(link, new FormUrlEncodedContent([]));
        using var json = await http.PostAsync(link, new StringContent("{\"List-Unsubscribe\":\"One-Click\"}", new MediaTypeHeaderValue("application/json")));
        using var huge = await http.PostAsync(link, new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click"), new("pad", new string('x', 20_000))]));

        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Equal("application/problem+json", empty.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Equal(SubscriptionStatus.Subscribed, (await Store.GetAsync(subjectRef, List))!.Status);
    }

    [Fact]
    public async Task Reconcile_RepairsDriftInBothDirections()
    {
        var group = SandboxEnvironment.NewsletterGroupId;
        // Unsubscribed with us, but the notice to the mail service was lost.
        var (_, lostEmail, lostRef, lostLink) = await SubscribeAsync();
        using var http = fixture.CreateClient();
        (await http.PostAsync(lostLink, OneClick())).Dispose();
        await fixture.Storage.Queue(QueueNames.MailSuppressions).ClearMessagesAsync();
        // Unsubscribed at the mail service's own link; we never heard.
        var (_, directEmail, directRef, _) = await SubscribeAsync();
        fixture.Sandbox.Mail.SuppressDirectly(group, directEmail);

        var report = await Sync.ReconcileAsync();

        Assert.True(report.SuppressionsAdded >= 1);
        Assert.True(report.UnsubscribedAtMailService >= 1);
        Assert.Contains(lostEmail, fixture.Sandbox.Mail.Suppressed(group));
        Assert.Contains(directEmail, fixture.Sandbox.Mail.Suppressed(group));
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Store.GetAsync(directRef, List))!.Status);
        Assert.Equal(ConsentSources.Reconcile, (await Store.HistoryAsync(directRef))[^1].Source);
        Assert.Equal(SubscriptionStatus.Unsubscribed, (await Store.GetAsync(lostRef, List))!.MailServiceStatus);
    }

    [Fact]
    public async Task MailServiceDown_SyncFailsForARetry_LedgerSaysFailed_ThenSucceedsWhenBack()
    {
        var (_, email, subjectRef, link) = await SubscribeAsync();
        using var http = fixture.CreateClient();
        (await http.PostAsync(link, OneClick())).Dispose();
        var message = new MailSuppressionRequest(subjectRef, List).ToJson();
        await fixture.Storage.Queue(QueueNames.MailSuppressions).ClearMessagesAsync();
        fixture.Sandbox.Mail.FailNext(50);

        await Assert.ThrowsAsync<MailServiceException>(() => Sync.HandleAsync(message, "m-down"));
        fixture.Sandbox.Mail.FailNext(0);
        await Sync.HandleAsync(message, "m-back");

        Assert.Contains(email, fixture.Sandbox.Mail.Suppressed(SandboxEnvironment.NewsletterGroupId));
        var chain = await fixture.Services.GetRequiredService<DisclosureLedger>().ReadChainAsync(subjectRef);
        Assert.Equal([DisclosureOutcome.Intended, DisclosureOutcome.Failed, DisclosureOutcome.Intended, DisclosureOutcome.Succeeded], chain.Select(e => e.Outcome));
    }
}
