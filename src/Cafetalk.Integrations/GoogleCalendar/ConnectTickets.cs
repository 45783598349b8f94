using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cafetalk.Integrations.Bookings;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>A verified connect ticket: whose it is, its id (a hash of its MAC) and when it expires.</summary>
public sealed record ConnectTicket(string LecturerId, string TicketId, DateTimeOffset ExpiresAtUtc);

/// <summary>
/// Short-lived tickets the Cafetalk site puts in a lecturer's "connect Google Calendar" link:
/// <c>{keyId}~{lecturerId}~{expiresUnixSeconds}~{nonce}~{base64url(HMAC-SHA256)}</c>, the MAC over everything before
/// it. <c>~</c> cannot occur in an id or in base64url. The random nonce makes every issued ticket distinct, because a
/// ticket completes one consent only (<see cref="SpentConnectTickets"/>); tickets without one (the four-part form the
/// site issued before) still verify.
/// </summary>
public sealed class ConnectTickets(IOptions<GoogleCalendarOptions> options, TimeProvider time)
{
    public const int MaxTicketLength = 300;

    public string Issue(string lecturerId, TimeSpan? lifetime = null)
    {
        if (!TableKeys.IsValidId(lecturerId))
        {
            throw new ArgumentException("A lecturer id is 1-64 characters of A-Z a-z 0-9 _ . -", nameof(lecturerId));
        }

        var keyId = options.Value.CurrentTicketKeyId;
        var expires = (time.GetUtcNow() + (lifetime ?? options.Value.TicketLifetime)).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var body = $"{keyId}~{lecturerId}~{expires}~{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16))}";
        return $"{body}~{Base64Url.EncodeToString(Mac(Key(keyId)!, body))}";
    }

    /// <summary>The lecturer a genuine, unexpired ticket names; null for anything else.</summary>
    public string? Verify(string? ticket) => Read(ticket)?.LecturerId;

    /// <summary>
    /// A genuine ticket that is valid now, or null. Whatever expiry the signer wrote, a ticket is accepted only within
    /// <see cref="GoogleCalendarOptions.TicketMaxLifetime"/> of it, so no ticket is usable for longer than that.
    /// </summary>
    public ConnectTicket? Read(string? ticket)
    {
        if (string.IsNullOrEmpty(ticket) || ticket.Length > MaxTicketLength)
        {
            return null;
        }

        var parts = ticket.Split('~');
        if (parts.Length is not (4 or 5) || Key(parts[0]) is not { } key || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        byte[] given;
        try
        {
            given = Base64Url.DecodeFromChars(parts[^1]);
        }
        catch (FormatException)
        {
            return null;
        }

        var expected = Mac(key, ticket[..ticket.LastIndexOf('~')]);
        if (!CryptographicOperations.FixedTimeEquals(expected, given))
        {
            return null;
        }

        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var longest = (long)options.Value.TicketMaxLifetime.TotalSeconds;
        if (now >= expires || expires - now > longest || !TableKeys.IsValidId(parts[1]))
        {
            return null;
        }

        // The MAC names exactly this ticket; its hash is the id the single-use check records.
        return new ConnectTicket(parts[1], Convert.ToHexStringLower(SHA256.HashData(expected)), DateTimeOffset.FromUnixTimeSeconds(expires));
    }

    private static byte[] Mac(byte[] key, string body) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(body));

    private byte[]? Key(string keyId) =>
        options.Value.TicketKeys.TryGetValue(keyId, out var value) ? KeyRing.DecodeKey(value) : null;
}

/// <summary>
/// Google event ids for bookings: HMAC-SHA256 of the booking id under <see cref="GoogleCalendarOptions.EventIdKey"/>,
/// 20 bytes in lowercase base32hex (32 characters of <c>[a-v0-9]</c>), so an insert can be repeated safely (409 means
/// it is there) and the id reveals nothing about the booking.
/// </summary>
public sealed class CalendarEventIds(IOptions<GoogleCalendarOptions> options)
{
    private const string Alphabet = "0123456789abcdefghijklmnopqrstuv";

    public string For(string bookingId)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.EventIdKey), Encoding.UTF8.GetBytes("calendar-event:" + bookingId));
        return Base32Hex(mac.AsSpan(0, 20));
    }

    internal static string Base32Hex(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder((bytes.Length * 8 + 4) / 5);
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                text.Append(Alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            text.Append(Alphabet[(buffer << (5 - bits)) & 31]);
        }

        return text.ToString();
    }
}
