using Azure.Data.Tables;

namespace Cafetalk.Integrations.Bookings;

/// <summary>What an act did: the answer, and the provider's facts for the loop to record (<see cref="BookingRows.WriteFactsAsync"/>).</summary>
public sealed record ConvergeAct<TResult>(TResult Result, TableEntity? Facts = null)
{
    /// <summary>The act changed what the plan rests on (a lease released, an object found gone): read the row and plan again.</summary>
    public bool ReadAgain { get; init; }

    /// <summary>False when the provider was left as it was (e.g. the grant was found revoked): the run does not count as acted.</summary>
    public bool ChangedProvider { get; init; } = true;

    /// <summary>The site notifications these facts imply: the loop writes their markers in the same merge as <see cref="Facts"/> and sends them after.</summary>
    public IReadOnlyList<SiteOutboxMarker> Notify { get; init; } = [];

    /// <summary>
    /// The facts are news to the next converger (a join link its event shows): a run with a <see cref="ConvergeHandOff{TResult}"/>
    /// asks it once settled, even when its request did not say so.
    /// </summary>
    public bool AsksNext { get; init; }
}
