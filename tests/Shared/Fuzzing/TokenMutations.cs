using FsCheck;
using FsCheck.Fluent;

namespace Cafetalk.Integrations.Fuzzing;

/// <summary>Bad versions of a genuine token or ticket: characters flipped, cut, added, swapped, parts replaced; and junk.</summary>
public static class TokenMutations
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=~.%";

    /// <summary>Mutations of <paramref name="valid"/>; about 1 in 60 is the genuine value, unchanged.</summary>
    public static Gen<string> Of(string valid) => Gen.Frequency(
        (12, from at in Gen.Choose(0, valid.Length - 1) from c in Gen.Elements(Alphabet.ToCharArray()) select Replace(valid, at, c)),
        (4, from length in Gen.Choose(0, valid.Length - 1) select valid[..length]),
        (3, from at in Gen.Choose(0, valid.Length) from text in Junk.Text().Resize(8) select valid.Insert(at, text.Length > 20 ? text[..20] : text)),
        (3, from at in Gen.Choose(0, valid.Length - 2) select Swap(valid, at)),
        (2, from at in Gen.Choose(0, valid.Length - 1) select Replace(valid, at, char.IsUpper(valid[at]) ? char.ToLowerInvariant(valid[at]) : char.ToUpperInvariant(valid[at]))),
        (2, Gen.Elements(valid + "=", valid + "==", valid + valid, " " + valid, valid + " ", valid.Replace('-', '+').Replace('_', '/'), valid + "\0")),
        (2, from bits in Gen.Choose(0, 5) from at in Gen.Choose(0, valid.Length - 1) select Replace(valid, at, (char)(valid[at] ^ (1 << bits)))),
        (4, Junk.Text()),
        (1, Gen.Constant(valid)));

    /// <summary>A ticket <c>{keyId}~{lecturerId}~{expires}~{mac}</c> with one part replaced, removed or added.</summary>
    public static Gen<string> OfTicketParts(string valid) =>
        from part in Gen.Choose(0, 3)
        from kind in Gen.Choose(0, 3)
        from text in Gen.Frequency((3, Gen.Elements(Junk.Nasty)), (2, Junk.Text()), (2, Gen.Elements("0", "1", "99999999999", "18446744073709551616", "-1", "+1", " 1", "1e3")))
        select Ticket(valid, part, kind, text);

    private static string Ticket(string valid, int part, int kind, string text)
    {
        var parts = valid.Split('~').ToList();
        switch (kind)
        {
            case 0:
                parts[part] = text;
                break;
            case 1:
                parts.RemoveAt(part);
                break;
            case 2:
                parts.Insert(part, text);
                break;
            default:
                parts[part] += text;
                break;
        }

        return string.Join('~', parts);
    }

    private static string Replace(string text, int at, char c) => text[..at] + c + text[(at + 1)..];

    private static string Swap(string text, int at) => text[..at] + text[at + 1] + text[at] + text[(at + 2)..];
}
