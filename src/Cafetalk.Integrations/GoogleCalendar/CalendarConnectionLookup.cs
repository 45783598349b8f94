using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Logging;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>Finding a lecturer's connection for the connect flows, where a token that does not open for its row is an answer, not a crash.</summary>
internal static class CalendarConnectionLookup
{
    /// <summary>The connection (or null when there is none), or <c>Unreadable</c> when its token does not open for its row; that is logged.</summary>
    public static async Task<(CalendarConnection? Connection, bool Unreadable)> FindReadableAsync(this CalendarConnections connections, string lecturerId,
        ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return (await connections.FindAsync(lecturerId, cancellationToken), false);
        }
        catch (FieldProtectionException)
        {
            logger.LogError("Calendar connection of lecturer {LecturerId} does not open for its row; nothing was changed", lecturerId);
            return (null, true);
        }
    }
}
