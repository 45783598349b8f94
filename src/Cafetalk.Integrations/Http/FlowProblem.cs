namespace Cafetalk.Integrations.Http;

/// <summary>The problem of a refusal: a stable type URI, a title and a detail a human can act on (no personal value).</summary>
public sealed record FlowProblem(string Type, string Title, string Detail);
