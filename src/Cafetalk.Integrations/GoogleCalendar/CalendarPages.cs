using System.Net;

namespace Cafetalk.Integrations.GoogleCalendar;

/// <summary>The pages a lecturer sees around the Google consent.</summary>
public enum CalendarPage
{
    Connected,
    /// <summary>The lecturer pressed "Cancel" at Google.</summary>
    Denied,
    /// <summary>The connect link is damaged or expired.</summary>
    InvalidLink,
    /// <summary>The state is unknown, used, expired or not this browser's.</summary>
    SessionMismatch,
    /// <summary>Google granted less than the calendar permission.</summary>
    ScopeMissing,
    /// <summary>Google or our storage failed; trying again later helps.</summary>
    Failed,
}

/// <summary>Small server-rendered pages in Japanese and English: a heading, what happened, what to do next.</summary>
public static class CalendarPages
{
    private const string Support = "info@cafetalk.com";

    private static readonly Dictionary<(CalendarPage, string), (string Title, string Body)> Texts = new()
    {
        [(CalendarPage.Connected, "ja")] = ("Google カレンダーと連携しました", "予約したレッスンが Google カレンダーの「Cafetalk lessons」カレンダーに表示されます。このページは閉じてかまいません。"),
        [(CalendarPage.Connected, "en")] = ("Google Calendar is connected", "Your booked lessons will appear in the \"Cafetalk lessons\" calendar in Google Calendar. You can close this page."),
        [(CalendarPage.Denied, "ja")] = ("連携はキャンセルされました", "Google でアクセスが許可されなかったため、カレンダーは連携されていません。連携する場合は、カフェトークの講師設定からもう一度「Google カレンダーと連携」を押してください。"),
        [(CalendarPage.Denied, "en")] = ("Connection cancelled", "Access was not allowed at Google, so no calendar is connected. To connect, press \"Connect Google Calendar\" again in your Cafetalk lecturer settings."),
        [(CalendarPage.InvalidLink, "ja")] = ("このリンクは無効です", "リンクが壊れているか、有効期限が切れています。カフェトークの講師設定からもう一度「Google カレンダーと連携」を押してください。"),
        [(CalendarPage.InvalidLink, "en")] = ("This link is not valid", "The link is damaged or has expired. Press \"Connect Google Calendar\" again in your Cafetalk lecturer settings."),
        [(CalendarPage.SessionMismatch, "ja")] = ("連携を完了できませんでした", "この手続きは使用済みか、期限切れか、別のブラウザーで始められました。何も保存されていません。同じブラウザーで、カフェトークの講師設定からもう一度お試しください。"),
        [(CalendarPage.SessionMismatch, "en")] = ("The connection could not be completed", "This request was already used, has expired, or was started in another browser. Nothing was saved. Start again from your Cafetalk lecturer settings in this browser."),
        [(CalendarPage.ScopeMissing, "ja")] = ("カレンダーへのアクセスが許可されていません", "Google の確認画面でカレンダーの権限のチェックが外されていました。何も保存されていません。もう一度連携し、カレンダーの権限を許可してください。"),
        [(CalendarPage.ScopeMissing, "en")] = ("Calendar access was not granted", "The calendar permission was unchecked on Google's consent screen. Nothing was saved. Connect again and allow the calendar permission."),
        [(CalendarPage.Failed, "ja")] = ("連携に失敗しました", $"Google との通信に失敗しました。しばらくしてからもう一度お試しください。解決しない場合はカフェトーク事務局 ({Support}) にお問い合わせください。"),
        [(CalendarPage.Failed, "en")] = ("The connection failed", $"We could not complete the connection with Google. Please try again in a few minutes. If it keeps failing, contact Cafetalk support ({Support})."),
    };

    public static string Render(CalendarPage page, string language)
    {
        var (title, body) = Texts[(page, language)];
        var role = page == CalendarPage.Connected ? "status" : "alert";
        return $$"""
            <!doctype html>
            <html lang="{{language}}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex, nofollow">
            <title>{{WebUtility.HtmlEncode(title)}} | Cafetalk</title>
            <style>
              body { font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; margin: 0; background: #faf7f2; color: #222; }
              main { max-width: 36rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
              h1 { font-size: 1.5rem; margin-top: 0; }
            </style>
            </head>
            <body>
            <main data-page="{{page.ToString().ToLowerInvariant()}}">
              <h1 id="title">{{WebUtility.HtmlEncode(title)}}</h1>
              <p role="{{role}}">{{WebUtility.HtmlEncode(body)}}</p>
            </main>
            </body>
            </html>
            """;
    }
}
