using System.Text.RegularExpressions;

namespace Cafetalk.Integrations.Storage;

/// <summary>The ids the pipeline files rows under: one shape for every table key, checked before any table is touched.</summary>
public static partial class TableKeys
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    /// <summary>True for an id the pipeline accepts as a table key (lecturer, student, booking, member).</summary>
    public static bool IsValidId(string? value) => value is not null && IdPattern().IsMatch(value);
}
