namespace Cafetalk.Integrations.Sandbox.Contracts;

/// <summary>Where a contract's facts come from: a repository file at a commit, or a page's URL.</summary>
public sealed record ContractSource(string Title, string? Url, string? Repo, string? Path, string? Commit, string? Section);
