using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Bookings;

/// <summary>Renders <see cref="SiteNotificationTypes"/> as docs/site-notifications.md's reference, so the document cannot drift from the code.</summary>
public static class SiteNotificationsDocument
{
    public const string BeginMarker = "<!-- site-notifications:begin -->";
    public const string EndMarker = "<!-- site-notifications:end -->";
    public const string RegenerateCommand = "dotnet run --project src/Cafetalk.Integrations.Cli -- notifications table --write-docs";

    /// <summary>The document, relative to the repository root, that holds the generated reference.</summary>
    public const string DocumentPath = "docs/site-notifications.md";

    /// <summary>The example CloudEvent of <paramref name="type"/>: each field's example value, at a fixed time.</summary>
    public static string Example(SiteNotificationType type) =>
        new SiteNotification(type, type.Fields.ToDictionary(f => f.Name, f => (object?)f.Example))
            .ToCloudEvent(new DateTimeOffset(2026, 12, 10, 8, 15, 0, TimeSpan.Zero));

    public static string ToMarkdown()
    {
        var md = new StringBuilder();
        md.Append("Generated from `src/Cafetalk.Integrations/Bookings/SiteNotificationTypes.cs` by\n`").Append(RegenerateCommand)
          .Append("`; a unit test fails when this part is stale, and every example below passes its schema.\n\n");
        md.Append("| type | what it tells | sent by |\n| --- | --- | --- |\n");
        foreach (var type in SiteNotificationTypes.All)
        {
            md.Append("| [`").Append(type.Type).Append("`](#").Append(type.Type.Replace(".", string.Empty, StringComparison.Ordinal)).Append(") | ")
              .Append(type.Description).Append(" | ").Append(type.SentBy ?? "not sent yet: declared for issue 18's outbox").Append(" |\n");
        }

        foreach (var type in SiteNotificationTypes.All)
        {
            md.Append("\n### ").Append(type.Type).Append("\n\n").Append(type.Description).Append(" Source `").Append(type.Source).Append("`.\n\n");
            md.Append("| field | JSON | required | meaning |\n| --- | --- | --- | --- |\n");
            foreach (var field in type.Fields)
            {
                var json = SiteNotificationSchema.JsonSchema(type)["properties"]![field.Name]!.AsObject();
                var shape = string.Join(", ", json.Where(p => p.Key != "description").Select(p => $"{p.Key} {p.Value!.ToJsonString()}"));
                md.Append("| `").Append(field.Name).Append("` | ").Append(shape.Replace("|", "\\|", StringComparison.Ordinal)).Append(" | ")
                  .Append(field.Required ? "yes" : "no").Append(" | ").Append(field.Description).Append(field.Secret ? " **Secret: never logged.**" : string.Empty).Append(" |\n");
            }

            var pretty = JsonNode.Parse(Example(type))!.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
            md.Append("\n```json\n").Append(pretty).Append("\n```\n");
        }

        return md.ToString();
    }

    /// <summary>The document with the text between the markers replaced by <paramref name="section"/>.</summary>
    public static string ReplaceSection(string document, string section) =>
        MarkedSection.Replace(document, BeginMarker, EndMarker, section, DocumentPath);
}
