namespace Cafetalk.Integrations.Disclosure;

/// <summary>A generated block in a markdown document, between a begin and an end marker (the policy and settings tables).</summary>
public static class MarkedSection
{
    /// <summary>The document with the text between the markers replaced by <paramref name="section"/>.</summary>
    public static string Replace(string document, string beginMarker, string endMarker, string section, string documentPath)
    {
        var begin = document.IndexOf(beginMarker, StringComparison.Ordinal);
        var end = document.IndexOf(endMarker, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw new InvalidOperationException($"{documentPath} has no '{beginMarker}' ... '{endMarker}' block.");
        }

        var start = begin + beginMarker.Length;
        return string.Concat(document.AsSpan(0, start), "\n", section, document.AsSpan(end));
    }
}
