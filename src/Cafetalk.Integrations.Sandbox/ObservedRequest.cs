namespace Cafetalk.Integrations.Sandbox;

/// <summary>
/// One request as it reached a simulator's host, before the simulator saw it: header names and the Authorization
/// scheme only (never their values); the body only when it is text (JSON, form, text/*), or empty.
/// </summary>
public sealed record ObservedRequest(
    DateTimeOffset ReceivedAtUtc,
    string Method,
    string Path,
    string Query,
    string? ContentType,
    string Body,
    IReadOnlyList<string> HeaderNames,
    string AuthScheme);
