namespace Cafetalk.Integrations.Disclosure;

// The reviewed source of what leaves Cafetalk. Change it like code: docs/privacy.md's table is generated from it
// (`dotnet run --project src/Cafetalk.Integrations.Cli -- policy table --write-docs`) and a test fails when they differ.
public sealed partial class DisclosurePolicy
{
    /// <summary>Zoom Video Communications, Inc. (United States): lesson meetings.</summary>
    public static readonly Recipient Zoom = new("zoom", "Zoom Video Communications, Inc.", "United States", "US") { Hosts = ["api.zoom.us", "zoom.us"] };

    /// <summary>Google LLC (United States): the lecturer's "Cafetalk lessons" calendar.</summary>
    public static readonly Recipient Google = new("google", "Google LLC", "United States", "US") { Hosts = ["oauth2.googleapis.com", "www.googleapis.com"] };

    /// <summary>Vimeo.com, Inc. (United States): lesson recordings both parties agreed to.</summary>
    public static readonly Recipient Vimeo = new("vimeo", "Vimeo.com, Inc.", "United States", "US") { Hosts = ["api.vimeo.com"] };

    /// <summary>The newsletter mail service (SendGrid, operated by Twilio Inc., United States).</summary>
    public static readonly Recipient MailService = new("mail", "Twilio Inc. (SendGrid)", "United States", "US") { Hosts = ["api.sendgrid.com"] };

    /// <summary>Purpose ids, the names requests and ledger rows use.</summary>
    public static class PurposeIds
    {
        public const string ZoomAuthentication = "zoom.authentication";
        public const string ZoomLessonMeeting = "zoom.lesson-meeting";
        public const string ZoomRecordingCleanup = "zoom.recording-cleanup";
        public const string GoogleAuthorization = "google.authorization";
        public const string GoogleLessonCalendar = "google.lesson-calendar";
        public const string VimeoLessonRecording = "vimeo.lesson-recording";
        public const string VimeoLecturerFolder = "vimeo.lecturer-folder";
        public const string NewsletterSuppression = "mail.newsletter-suppression";
    }

    private const string LessonConsent = "consent to the booking terms incl. foreign transfer (APPI Art. 27(1), 28(1))";
    private const string RecordingConsent = "recording consent of lecturer and student (APPI Art. 27(1), 28(1))";

    /// <summary>The policy in force.</summary>
    public static DisclosurePolicy Cafetalk { get; } = new(
        [Zoom, Google, Vimeo, MailService],
        [
            new(PurposeIds.ZoomAuthentication, Zoom,
                "obtain a Server-to-Server OAuth token for our own Zoom account (no personal data)",
                "§8", "contract with the recipient (our account credentials only)", "token expires after 1 hour",
                [new("POST", "/oauth/token")],
                [
                    new("query:grant_type", DataOwner.None, "always account_credentials"),
                    new("query:account_id", DataOwner.None, "Cafetalk's Zoom account id"),
                    new("grant_type", DataOwner.None, "always account_credentials"),
                    new("account_id", DataOwner.None, "Cafetalk's Zoom account id"),
                ]),
            new(PurposeIds.ZoomLessonMeeting, Zoom,
                "create, update, look up and delete the video meeting of a booked lesson",
                "§4-2-②, §8", LessonConsent, "deleted on cancellation or erasure; Zoom's own retention otherwise",
                [
                    new("POST", "/v2/users/{hostId}/meetings"),
                    new("GET", "/v2/users/{hostId}/meetings"),
                    new("GET", "/v2/meetings/{meetingId}"),
                    new("PATCH", "/v2/meetings/{meetingId}"),
                    new("DELETE", "/v2/meetings/{meetingId}"),
                ],
                [
                    new("path:hostId", DataOwner.Lecturer, "the lecturer's Zoom host user id"),
                    new("path:meetingId", DataOwner.None, "Zoom's id of the meeting"),
                    new("query:type", DataOwner.None, "listing filter"),
                    new("query:page_size", DataOwner.None, "listing page size"),
                    new("query:next_page_token", DataOwner.None, "listing cursor"),
                    new("query:schedule_for_reminder", DataOwner.None, "delete: no reminder mail"),
                    new("query:cancel_meeting_reminder", DataOwner.None, "delete: no cancellation mail"),
                    new("type", DataOwner.None, "always 2 (scheduled meeting)"),
                    new("topic", DataOwner.None, "neutral title, never a name"),
                    new("start_time", DataOwner.Both, "lesson start (UTC)"),
                    new("duration", DataOwner.Both, "lesson length in minutes"),
                    new("timezone", DataOwner.None, "always UTC (start_time is UTC; the lecturer's zone is not sent)"),
                    new("agenda", DataOwner.Both, "opaque booking reference (finds the meeting after a crash)"),
                    new("settings.host_video", DataOwner.None, "meeting setting"),
                    new("settings.participant_video", DataOwner.None, "meeting setting"),
                    new("settings.join_before_host", DataOwner.None, "meeting setting"),
                    new("settings.waiting_room", DataOwner.None, "meeting setting"),
                    new("settings.mute_upon_entry", DataOwner.None, "meeting setting"),
                    new("settings.approval_type", DataOwner.None, "meeting setting"),
                    new("settings.auto_recording", DataOwner.None, "cloud only when both parties consented"),
                ]),
            new(PurposeIds.ZoomRecordingCleanup, Zoom,
                "fetch a fresh download token for a lesson recording we upload to Vimeo, and delete Zoom's cloud copy once Vimeo holds it or when either party did not consent",
                "§4-2-②, §8, §12", RecordingConsent, "deleted at once (never left in Zoom's trash)",
                [
                    new("GET", "/v2/meetings/{meetingId}/recordings"),
                    new("DELETE", "/v2/meetings/{meetingId}/recordings"),
                ],
                [
                    new("path:meetingId", DataOwner.Both, "the lesson meeting's UUID: it names the recording, both parties' images and voices"),
                    new("query:include_fields", DataOwner.None, "always download_access_token"),
                    new("query:ttl", DataOwner.None, "lifetime of the download token in seconds"),
                    new("query:action", DataOwner.None, "always delete (not trash)"),
                ]),
            new(PurposeIds.GoogleAuthorization, Google,
                "exchange, refresh and revoke the lecturer's Google Calendar authorization (OAuth 2.0 with PKCE)",
                "§8", "the lecturer's OAuth consent at Google", "revoked on disconnect or erasure",
                [
                    new("POST", "/token"),
                    new("GET", "/revoke"),
                    new("POST", "/revoke"),
                ],
                [
                    new("grant_type", DataOwner.None, "authorization_code or refresh_token"),
                    new("code", DataOwner.Lecturer, "one-time authorization code"),
                    new("code_verifier", DataOwner.None, "PKCE verifier we generated"),
                    new("redirect_uri", DataOwner.None, "our callback URL"),
                    new("scope", DataOwner.None, "always calendar.app.created"),
                    new("client_id", DataOwner.None, "Cafetalk's OAuth client"),
                    new("client_secret", DataOwner.None, "Cafetalk's OAuth client secret"),
                    new("refresh_token", DataOwner.Lecturer, "the lecturer's refresh token"),
                    new("token", DataOwner.Lecturer, "the token being revoked"),
                    new("query:token", DataOwner.Lecturer, "the token being revoked (query form)"),
                ]),
            new(PurposeIds.GoogleLessonCalendar, Google,
                "keep the lecturer's dedicated \"Cafetalk lessons\" calendar in step with bookings",
                "§4-2-②, §8", "the lecturer's OAuth consent (scope calendar.app.created)", "deleted on cancellation, disconnect or erasure",
                [
                    new("POST", "/calendar/v3/calendars"),
                    new("DELETE", "/calendar/v3/calendars/{calendarId}"),
                    new("GET", "/calendar/v3/calendars/{calendarId}/events"),
                    new("POST", "/calendar/v3/calendars/{calendarId}/events"),
                    new("GET", "/calendar/v3/calendars/{calendarId}/events/{eventId}"),
                    new("PUT", "/calendar/v3/calendars/{calendarId}/events/{eventId}"),
                    new("DELETE", "/calendar/v3/calendars/{calendarId}/events/{eventId}"),
                    new("POST", "/calendar/v3/calendars/{calendarId}/events/watch"),
                    new("POST", "/calendar/v3/channels/stop"),
                ],
                [
                    new("path:calendarId", DataOwner.None, "Google's id of the calendar we created"),
                    new("path:eventId", DataOwner.None, "event id: keyed hash of the booking id"),
                    new("query:syncToken", DataOwner.None, "incremental sync cursor"),
                    new("query:pageToken", DataOwner.None, "listing cursor"),
                    new("query:showDeleted", DataOwner.None, "listing filter"),
                    new("query:maxResults", DataOwner.None, "listing page size"),
                    new("query:sendUpdates", DataOwner.None, "always none: nobody is mailed"),
                    new("summary", DataOwner.None, "neutral title (calendar or event), never a name"),
                    new("id", DataOwner.None, "event id: keyed hash of the booking id (idempotent insert); or a watch channel's random id"),
                    new("status", DataOwner.None, "always confirmed"),
                    new("start.dateTime", DataOwner.Both, "lesson start in the lecturer's time zone"),
                    new("start.timeZone", DataOwner.Lecturer, "the lecturer's IANA time zone"),
                    new("end.dateTime", DataOwner.Both, "lesson end in the lecturer's time zone"),
                    new("end.timeZone", DataOwner.Lecturer, "the lecturer's IANA time zone"),
                    new("description", DataOwner.Both, "the Zoom join link only"),
                    new("visibility", DataOwner.None, "always private"),
                    new("type", DataOwner.None, "watch channel: always web_hook"),
                    new("address", DataOwner.None, "watch channel: our notification URL"),
                    new("token", DataOwner.None, "watch channel: our random per-channel secret, echoed back on each notification"),
                    new("expiration", DataOwner.None, "watch channel: the expiry asked for (Unix ms)"),
                    new("resourceId", DataOwner.None, "watch channel: Google's opaque id of the watched events (channels.stop)"),
                ]),
            new(PurposeIds.VimeoLessonRecording, Vimeo,
                "host the recording of a lesson both parties agreed to record, visible only on cafetalk.com",
                "§4-2-②, §8, §12", RecordingConsent, "deleted when the recording's retention ends (90 days by default), on cancellation or on erasure",
                [
                    new("POST", "/me/videos"),
                    new("GET", "/me/videos"),
                    new("GET", "/oauth/verify"),
                    new("GET", "/videos/{videoId}"),
                    new("DELETE", "/videos/{videoId}"),
                    new("PUT", "/videos/{videoId}/privacy/domains/{domain}"),
                    new("PUT", "/me/projects/{projectId}/videos/{videoId}"),
                ],
                [
                    new("path:videoId", DataOwner.Both, "Vimeo's id of the lesson recording"),
                    new("path:projectId", DataOwner.Lecturer, "Vimeo's id of the lecturer's folder"),
                    new("path:domain", DataOwner.None, "a configured embed domain (cafetalk.com)"),
                    new("query:query", DataOwner.Both, "opaque booking reference (finds the video before any second upload)"),
                    new("upload.approach", DataOwner.None, "always tus (resumable upload)"),
                    new("upload.size", DataOwner.None, "the recording file's size in bytes"),
                    new("content:recording", DataOwner.Both, "the lesson recording's bytes, sent in tus chunks to the video's upload link"),
                    new("name", DataOwner.None, "neutral title, never a name"),
                    new("description", DataOwner.Both, "opaque booking reference"),
                    new("privacy.view", DataOwner.None, "always disable"),
                    new("privacy.embed", DataOwner.None, "always whitelist"),
                    new("privacy.download", DataOwner.None, "always false"),
                    new("privacy.comments", DataOwner.None, "always nobody"),
                ]),
            new(PurposeIds.VimeoLecturerFolder, Vimeo,
                "keep one folder per lecturer for their lesson recordings",
                "§4-2-②, §8", RecordingConsent, "deleted on the lecturer's erasure",
                [
                    new("POST", "/me/projects"),
                    new("GET", "/me/projects"),
                    new("DELETE", "/me/projects/{projectId}"),
                ],
                [
                    new("path:projectId", DataOwner.Lecturer, "Vimeo's id of the lecturer's folder"),
                    new("query:page", DataOwner.None, "folder list page (GET /me/projects has no name filter)"),
                    new("query:per_page", DataOwner.None, "folder list page size (100, Vimeo's maximum)"),
                    new("query:should_delete_clips", DataOwner.None, "always false: videos are deleted one by one"),
                    new("name", DataOwner.Lecturer, "opaque lecturer reference, never a name"),
                ]),
            new(PurposeIds.NewsletterSuppression, MailService,
                "stop or resume the newsletter for a member who asked (unsubscribe / resubscribe)",
                "§4-2-⑥, §10", "the member's own request (unsubscribe) or consent (resubscribe)", "as long as the suppression applies",
                [
                    new("POST", "/v3/asm/groups/{groupId}/suppressions"),
                    new("DELETE", "/v3/asm/groups/{groupId}/suppressions/{email}"),
                    new("GET", "/v3/asm/groups/{groupId}/suppressions"),
                    new("GET", "/v3/asm/groups"),
                ],
                [
                    new("path:groupId", DataOwner.None, "the newsletter's suppression group"),
                    new("path:email", DataOwner.Member, "the member's email address"),
                    new("recipient_emails[]", DataOwner.Member, "the member's email address"),
                ]),
        ]);
}
