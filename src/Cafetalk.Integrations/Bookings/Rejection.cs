namespace Cafetalk.Integrations.Bookings;

/// <summary>Why an incoming message was refused. Codes are stable: dashboards and the demo group by them.</summary>
public static class RejectionReasons
{
    public const string NotJson = "not-json";
    public const string NotCloudEvent = "not-a-cloudevent";
    public const string UnknownType = "unknown-type";
    public const string MissingField = "missing-field";
    public const string InvalidField = "invalid-field";
    public const string StartsAtNotUtc = "startsAt-not-utc";
    public const string StartsAtTooFarOut = "startsAt-too-far-out";
    public const string DurationOutOfRange = "duration-out-of-range";
    public const string UnknownTimeZone = "unknown-time-zone";
    public const string TooLarge = "message-too-large";
}

/// <summary>A refusal: a stable reason code and a detail that names fields, never their values.</summary>
public sealed record Rejection(string Reason, string Detail)
{
    public override string ToString() => $"{Reason}: {Detail}";
}
