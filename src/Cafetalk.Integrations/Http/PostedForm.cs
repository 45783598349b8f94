namespace Cafetalk.Integrations.Http;

/// <summary>A posted form, read and parsed by the HTTP adapter: each field's values joined by commas, as ASP.NET reads them.</summary>
public sealed record PostedForm(PostedFormOutcome Outcome, IReadOnlyDictionary<string, string> Fields)
{
    /// <summary>A form that was read and parsed.</summary>
    public static PostedForm Of(IReadOnlyDictionary<string, string> fields) => new(PostedFormOutcome.Read, fields);

    /// <summary>A form that was not read: <paramref name="outcome"/> says why.</summary>
    public static PostedForm Failed(PostedFormOutcome outcome) => new(outcome, new Dictionary<string, string>());

    /// <summary>As <see cref="BodyRead.Refusal"/> when the body itself was not read whole; null otherwise.</summary>
    public (int Status, string Type, string Detail)? BodyRefusal(int maxBytes) => Outcome switch
    {
        PostedFormOutcome.TooLarge => new BodyRead(BodyReadOutcome.TooLarge, default).Refusal(maxBytes),
        PostedFormOutcome.TooSlow => new BodyRead(BodyReadOutcome.TooSlow, default).Refusal(maxBytes),
        PostedFormOutcome.Unreadable => new BodyRead(BodyReadOutcome.Unreadable, default).Refusal(maxBytes),
        _ => null,
    };

    /// <summary>The field's value, or null when it was not posted.</summary>
    public string? this[string name] => Fields.TryGetValue(name, out var value) ? value : null;
}
