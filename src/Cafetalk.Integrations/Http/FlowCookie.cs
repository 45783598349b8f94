namespace Cafetalk.Integrations.Http;

/// <summary>
/// A flow's cookie: always <c>Secure; HttpOnly; SameSite=Lax; Path=/</c> (the adapter sets those), so a <c>__Host-</c>
/// name holds. <see cref="Value"/> null expires it.
/// </summary>
public sealed record FlowCookie(string Name, string? Value, TimeSpan MaxAge);
