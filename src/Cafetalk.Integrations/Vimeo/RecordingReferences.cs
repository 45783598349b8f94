using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// Opaque references written into Vimeo: a video's <c>description</c> (keyed hash of the booking id) and a
/// folder's <c>name</c> (keyed hash of the lecturer id). They find the object again; Vimeo learns nothing from them.
/// </summary>
public sealed class RecordingReferences(IOptions<VimeoOptions> options)
{
    public const string BookingPrefix = "cafetalk-rec:";
    public const string LecturerPrefix = "cafetalk-lecturer:";

    public string ForBooking(string bookingId) => BookingPrefix + Hash("booking:" + bookingId);

    public string ForLecturer(string lecturerId) => LecturerPrefix + Hash("lecturer:" + lecturerId);

    private string Hash(string value) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.ReferenceKey), Encoding.UTF8.GetBytes(value)).AsSpan(0, 16));
}
