using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>Settings of the mail service (section <c>MailService</c>): a SendGrid-style API.</summary>
public sealed class MailServiceOptions : ProviderRetryOptions
{
    public const string Section = "MailService";

    /// <summary>The waits this client had on the standard resilience pipeline: 2 s first backoff, 10 s per attempt.</summary>
    public MailServiceOptions() => (RetryBaseDelay, AttemptTimeout) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));

    [Required]
    public Uri BaseAddress { get; set; } = new("https://api.sendgrid.com/");

    /// <summary>The API key (a Key Vault reference in Azure), scoped to suppression management only.</summary>
    [Required]
    public string ApiKey { get; set; } = string.Empty;
}

/// <summary>The mail service answered with an error; carries the status and operation, never an address.</summary>
public sealed class MailServiceException(string operation, HttpStatusCode status)
    : Exception($"Mail service {operation} failed with HTTP {(int)status}.")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// The suppression-group calls we make (SendGrid ASM shape). Every request declares its disclosure so the gate
/// lets through only the allowlisted address of a member whose intent is on record.
/// </summary>
public sealed class MailServiceClient(HttpClient http)
{
    public async Task SuppressAsync(int groupId, string email, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v3/asm/groups/{groupId}/suppressions")
        {
            Content = JsonContent.Create(new { recipient_emails = new[] { email } }),
        }.DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        Ensure(response, "add suppression");
    }

    /// <summary>Removes a suppression; false when it was not there (which counts as done).</summary>
    public async Task<bool> UnsuppressAsync(int groupId, string email, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"v3/asm/groups/{groupId}/suppressions/{Uri.EscapeDataString(email)}")
            .DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        Ensure(response, "remove suppression");
        return true;
    }

    /// <summary>Every address suppressed in the group; the request itself carries nothing personal.</summary>
    public async Task<IReadOnlyList<string>> ListSuppressionsAsync(int groupId, DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v3/asm/groups/{groupId}/suppressions").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        Ensure(response, "list suppressions");
        try
        {
            return await response.Content.ReadFromJsonAsync<List<string>>(cancellationToken) ?? [];
        }
        catch (JsonException)
        {
            throw new MailServiceException("list suppressions (unreadable answer)", response.StatusCode);
        }
    }

    /// <summary>The ids of every suppression group the account has (<c>GET /v3/asm/groups</c>); nothing personal either way.</summary>
    public async Task<IReadOnlySet<long>> ListGroupIdsAsync(DisclosureContext disclosure, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v3/asm/groups").DeclareDisclosure(disclosure);
        using var response = await http.SendAsync(request, cancellationToken);
        Ensure(response, "list suppression groups");
        try
        {
            using var groups = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            // The spec types a group's id as "number" in one schema and "integer" in another: read either.
            return groups.RootElement.EnumerateArray().Select(g => (long)g.GetProperty("id").GetDecimal()).ToHashSet();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new MailServiceException("list suppression groups (unreadable answer)", response.StatusCode);
        }
    }

    private static void Ensure(HttpResponseMessage response, string operation)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new MailServiceException(operation, response.StatusCode);
        }
    }
}

/// <summary>Adds the bearer API key; kept out of the client so the key never sits in a request builder.</summary>
internal sealed class MailServiceAuthenticationHandler(IOptions<MailServiceOptions> options) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Value.ApiKey);
        return base.SendAsync(request, cancellationToken);
    }
}
