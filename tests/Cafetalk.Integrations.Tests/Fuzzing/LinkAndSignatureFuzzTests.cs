using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Fuzzing;
using Cafetalk.Integrations.GoogleCalendar;
using Cafetalk.Integrations.Newsletter;
using Cafetalk.Integrations.Zoom;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Cafetalk.Integrations.Tests.Fuzzing;

/// <summary>
/// The pure checks behind the HTTP routes, fuzzed with <see cref="FuzzSettings.Count"/> inputs each: unsubscribe
/// tokens, calendar connect tickets, Zoom webhook signatures and the page-language choice never throw, and accept
/// only what is genuine.
/// </summary>
public sealed class LinkAndSignatureFuzzTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2027, 2, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly string TokenKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void UnsubscribeTokens_FuzzedTokens_NeverThrow_AndOnlyTheGenuineBytesVerify()
    {
        var tokens = new UnsubscribeTokens(Options.Create(new NewsletterOptions
        {
            PublicBaseUrl = new Uri("https://integrations.cafetalk.com/"),
            CurrentTokenKeyId = "k1",
            TokenKeys = { ["k1"] = TokenKey, ["k0"] = Convert.ToBase64String(new byte[32]) },
        }));
        var genuine = tokens.Issue("sub-0123456789abcdef0123456789abcdef", "cafetalk-news");
        var genuineBytes = Base64Url.DecodeFromChars(genuine);
        var inputs = FuzzSettings.Inputs("unit:unsubscribe-token", TokenMutations.Of(genuine));
        var problems = new List<string>();
        var verified = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                if (tokens.Verify(inputs[i]) is not { } target)
                {
                    continue;
                }

                verified++;
                // Base64url decoders may ignore unused trailing bits: a different spelling of the same bytes is the same token.
                if (!Base64Url.DecodeFromChars(inputs[i]).AsSpan().SequenceEqual(genuineBytes) || target.Reference != "sub-0123456789abcdef0123456789abcdef")
                {
                    problems.Add($"#{i} verified a token that is not the genuine one: {FuzzSettings.Show(inputs[i])}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i])}");
            }
        }

        output.WriteLine($"unsubscribe tokens: {inputs.Count} inputs ({FuzzSettings.Replay}); {verified} verified (the genuine token), {inputs.Count - verified} refused");
        FuzzSettings.AssertNone("UnsubscribeTokens.Verify", problems, inputs.Count);
    }

    [Fact]
    public void ConnectTickets_FuzzedTickets_NeverThrow_AndOnlyTheGenuineTicketVerifies()
    {
        var tickets = new ConnectTickets(Options.Create(new GoogleCalendarOptions
        {
            CurrentTicketKeyId = "k1",
            TicketKeys = { ["k1"] = TokenKey },
            EventIdKey = "event-id-key-for-tests",
        }), new FakeTimeProvider(Now));
        // Built by hand with a fixed nonce (Issue draws a random one), so a FUZZ_SEED replays the same inputs.
        var body = $"k1~lec_4412~{(Now + TimeSpan.FromMinutes(10)).ToUnixTimeSeconds()}~UYt2whDHX7fWssAHkp0x8w";
        var genuine = $"{body}~{Base64Url.EncodeToString(System.Security.Cryptography.HMACSHA256.HashData(Convert.FromBase64String(TokenKey), System.Text.Encoding.UTF8.GetBytes(body)))}";
        Assert.Equal("lec_4412", tickets.Verify(genuine));
        var inputs = FuzzSettings.Inputs("unit:connect-ticket", Gen.OneOf(TokenMutations.Of(genuine), TokenMutations.OfTicketParts(genuine)));
        var problems = new List<string>();
        var verified = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                if (tickets.Verify(inputs[i]) is not { } lecturerId)
                {
                    continue;
                }

                verified++;
                if (lecturerId != "lec_4412" || !SameTicket(inputs[i], genuine))
                {
                    problems.Add($"#{i} verified a ticket that is not the genuine one: {FuzzSettings.Show(inputs[i])}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i])}");
            }
        }

        output.WriteLine($"connect tickets: {inputs.Count} inputs ({FuzzSettings.Replay}); {verified} verified (the genuine ticket), {inputs.Count - verified} refused");
        FuzzSettings.AssertNone("ConnectTickets.Verify", problems, inputs.Count);
    }

    [Fact]
    public void ZoomWebhookVerifier_FuzzedHeadersAndBodies_NeverThrow_AndOnlyAFreshGenuineSignatureIsValid()
    {
        const string secret = "fuzz-webhook-secret";
        var verifier = new ZoomWebhookVerifier(Options.Create(new ZoomOptions { WebhookSecretToken = secret }), new FakeTimeProvider(Now));
        var fresh = Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var timestamps = Gen.Frequency(
            (4, Gen.Constant(fresh)),
            (2, Gen.Choose(-600, 600).Select(d => (Now.ToUnixTimeSeconds() + d).ToString(CultureInfo.InvariantCulture))),
            (2, Gen.Elements("", "0", "-1", "+" + fresh, " " + fresh, fresh + ".0", "253402300799", "253402300800", "9223372036854775807", "9223372036854775808", "1e9")),
            (2, Junk.Text()));
        var bodies = Junk.AnyText();
        var inputs = FuzzSettings.Inputs("unit:zoom-signature",
            from timestamp in timestamps
            from body in bodies
            from kind in Gen.Choose(0, 5)
            from junk in Junk.Text()
            let genuine = Sign(secret, timestamp, body)
            select (timestamp, body, kind switch
            {
                0 => genuine,
                1 => Sign("another-secret", timestamp, body),
                2 => genuine.ToUpperInvariant(),
                3 => genuine[..^1],
                4 => "v1=" + genuine[3..],
                _ => junk,
            }));
        var problems = new List<string>();
        var valid = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var (timestamp, body, signature) = inputs[i];
            try
            {
                var check = verifier.Verify(timestamp, signature, Encoding.UTF8.GetBytes(body));
                var freshEnough = long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                    && Math.Abs(seconds - Now.ToUnixTimeSeconds()) <= 300;
                var expected = string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature) ? ZoomSignatureCheck.MissingHeaders
                    : !freshEnough ? ZoomSignatureCheck.StaleTimestamp
                    : signature == Sign(secret, timestamp, body) ? ZoomSignatureCheck.Valid
                    : ZoomSignatureCheck.BadSignature;
                valid += check == ZoomSignatureCheck.Valid ? 1 : 0;
                if (check != expected)
                {
                    problems.Add($"#{i} gave {check}, expected {expected}: ts={FuzzSettings.Show(timestamp)} sig={FuzzSettings.Show(signature)}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: ts={FuzzSettings.Show(timestamp)} sig={FuzzSettings.Show(signature)}");
            }
        }

        output.WriteLine($"zoom signatures: {inputs.Count} inputs ({FuzzSettings.Replay}); {valid} valid (genuine and fresh), {inputs.Count - valid} refused");
        FuzzSettings.AssertNone("ZoomWebhookVerifier.Verify", problems, inputs.Count);
    }

    [Fact]
    public void ChooseLanguage_FuzzedAcceptLanguageAndLang_NeverThrows_AndIsJapaneseOrEnglish()
    {
        var headers = Gen.Frequency(
            (3, Gen.Elements("ja", "en", "en-US,en;q=0.9", "fr, en;q=0.5, ja;q=0.6", "*", "en;q=abc", "en;q=1.5", "en;q=-1", ";;;", ",,,", "ja;q=0, en;q=0", "en-GB;q=0.8,ja")),
            (3, Junk.Text()),
            (1, Gen.ListOf(Junk.Ascii()).Select(parts => string.Join(",", parts))));
        var inputs = FuzzSettings.Inputs("unit:choose-language",
            from header in headers
            from lang in Gen.Frequency((3, Gen.Constant<string?>(null)), (2, Gen.Elements<string?>("ja", "en", "JA", "fr", "", "ja ")), (1, Junk.Text().Select(t => (string?)t)))
            select (header, lang));
        var problems = new List<string>();
        for (var i = 0; i < inputs.Count; i++)
        {
            try
            {
                var language = Cafetalk.Integrations.Web.RequestLanguage.Choose(new StringValues(inputs[i].header), inputs[i].lang);
                if (language is not ("ja" or "en") || (inputs[i].lang is "ja" or "en" && language != inputs[i].lang))
                {
                    problems.Add($"#{i} chose '{language}': {FuzzSettings.Show(inputs[i].header)} lang={FuzzSettings.Show(inputs[i].lang)}");
                }
            }
            catch (Exception ex)
            {
                problems.Add($"#{i} threw {ex.GetType().Name}: {FuzzSettings.Show(inputs[i].header)}");
            }
        }

        FuzzSettings.AssertNone("NewsletterPages.ChooseLanguage", problems, inputs.Count);
    }

    private static string Sign(string secret, string timestamp, string body) =>
        "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}")));

    /// <summary>Same key id, lecturer and expiry, and a MAC that decodes to the same bytes.</summary>
    private static bool SameTicket(string candidate, string genuine)
    {
        var (a, b) = (candidate.Split('~'), genuine.Split('~'));
        // The MAC covers the text before it, so only the MAC's own encoding may differ (padding, whitespace).
        return a.Length == b.Length && a.AsSpan(0, a.Length - 1).SequenceEqual(b.AsSpan(0, b.Length - 1))
            && Base64Url.DecodeFromChars(a[^1]).AsSpan().SequenceEqual(Base64Url.DecodeFromChars(b[^1]));
    }
}
