using System.Collections.Concurrent;

namespace Cafetalk.Integrations.Sandbox;

/// <summary>A personal value or secret the Sandbox put into play, and what kind of thing it is (for the log scan's findings).</summary>
public sealed record PlantedValue(string Kind, string Value);

/// <summary>What a simulator handed out (tokens, codes, links) or was sent that is secret, kept so the log scan can look for each.</summary>
public sealed class IssuedValues
{
    private readonly ConcurrentDictionary<string, string> _byValue = new(StringComparer.Ordinal);

    public void Add(string kind, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            _byValue.TryAdd(value, kind);
        }
    }

    public IReadOnlyList<PlantedValue> All => [.. _byValue.Select(p => new PlantedValue(p.Value, p.Key))];
}
