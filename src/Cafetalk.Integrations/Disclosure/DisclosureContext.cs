namespace Cafetalk.Integrations.Disclosure;

/// <summary>
/// What a request declares about itself: the purpose it is sent for and the ledger intents recorded for it.
/// Attach it with <see cref="HttpRequestMessageDisclosureExtensions.DeclareDisclosure"/>; the gate refuses requests without one.
/// </summary>
public sealed class DisclosureContext(DisclosurePurpose purpose, IReadOnlyList<DisclosureHandle> intents)
{
    public static readonly HttpRequestOptionsKey<DisclosureContext> OptionKey = new("Cafetalk.Disclosure");

    public DisclosurePurpose Purpose { get; } = purpose;

    /// <summary>The Intended ledger rows written before this request, one per member whose data it carries.</summary>
    public IReadOnlyList<DisclosureHandle> Intents { get; } = intents;

    /// <summary>The field paths the gate saw on the wire, set once the request passed (for diagnostics and tests).</summary>
    public IReadOnlyList<string> SentFieldPaths { get; internal set; } = [];

    /// <summary>A request that carries no personal data (token fetch, settings-only calls).</summary>
    public static DisclosureContext WithoutPersonalData(DisclosurePurpose purpose) => new(purpose, []);

    /// <summary>A request carrying personal data, covered by the intents written for it.</summary>
    public static DisclosureContext For(DisclosurePurpose purpose, IEnumerable<DisclosureHandle> intents) => new(purpose, intents.ToList());
}

/// <summary>Declares a request's disclosure so the gate can check it.</summary>
public static class HttpRequestMessageDisclosureExtensions
{
    public static HttpRequestMessage DeclareDisclosure(this HttpRequestMessage request, DisclosureContext context)
    {
        request.Options.Set(DisclosureContext.OptionKey, context);
        return request;
    }

    public static DisclosureContext? FindDisclosure(this HttpRequestMessage request) =>
        request.Options.TryGetValue(DisclosureContext.OptionKey, out var context) ? context : null;
}
