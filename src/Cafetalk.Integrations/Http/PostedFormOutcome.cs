namespace Cafetalk.Integrations.Http;

/// <summary>How reading a posted form ended: the body's own outcomes, then whether it was a form at all.</summary>
public enum PostedFormOutcome
{
    Read,
    TooLarge,
    TooSlow,
    Unreadable,
    /// <summary>Not <c>application/x-www-form-urlencoded</c> or <c>multipart/form-data</c>: answer 415.</summary>
    NotAForm,
    /// <summary>A form content type whose body does not parse: answer 400.</summary>
    Malformed,
}
