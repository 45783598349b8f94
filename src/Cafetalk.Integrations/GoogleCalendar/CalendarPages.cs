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
    /// <summary>The connect link completed a consent before: each ticket works once.</summary>
    LinkUsed,
    /// <summary>The state is unknown, used, expired or not this browser's.</summary>
    SessionMismatch,
    /// <summary>Google granted less than the calendar permission.</summary>
    ScopeMissing,
    /// <summary>Google or our storage failed; trying again later helps.</summary>
    Failed,
    /// <summary>A connection exists: replacing it needs the lecturer's explicit confirmation (a POST form).</summary>
    ConfirmReplace,
    /// <summary>The confirmation form was posted cross-site, without its one-time token, or with a used or expired one.</summary>
    ConfirmationRefused,
    /// <summary>The stored connection changed between the confirmation (or its absence) and the callback.</summary>
    ConnectionChanged,
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
        [(CalendarPage.LinkUsed, "ja")] = ("このリンクは使用済みです", "連携リンクは一度しか使えません。連携するには、カフェトークの講師設定からもう一度「Google カレンダーと連携」を押してください。"),
        [(CalendarPage.LinkUsed, "en")] = ("This link was already used", "Each connect link works once. To connect, press \"Connect Google Calendar\" again in your Cafetalk lecturer settings."),
        [(CalendarPage.SessionMismatch, "ja")] = ("連携を完了できませんでした", "この手続きは使用済みか、期限切れか、別のブラウザーで始められました。何も保存されていません。同じブラウザーで、カフェトークの講師設定からもう一度お試しください。"),
        [(CalendarPage.SessionMismatch, "en")] = ("The connection could not be completed", "This request was already used, has expired, or was started in another browser. Nothing was saved. Start again from your Cafetalk lecturer settings in this browser."),
        [(CalendarPage.ScopeMissing, "ja")] = ("カレンダーへのアクセスが許可されていません", "Google の確認画面でカレンダーの権限のチェックが外されていました。何も保存されていません。もう一度連携し、カレンダーの権限を許可してください。"),
        [(CalendarPage.ScopeMissing, "en")] = ("Calendar access was not granted", "The calendar permission was unchecked on Google's consent screen. Nothing was saved. Connect again and allow the calendar permission."),
        [(CalendarPage.Failed, "ja")] = ("連携に失敗しました", $"Google との通信に失敗しました。しばらくしてからもう一度お試しください。解決しない場合はカフェトーク事務局 ({Support}) にお問い合わせください。"),
        [(CalendarPage.Failed, "en")] = ("The connection failed", $"We could not complete the connection with Google. Please try again in a few minutes. If it keeps failing, contact Cafetalk support ({Support})."),
        [(CalendarPage.ConfirmReplace, "ja")] = ("Google カレンダーの連携を置き換えますか？", "すでに Google カレンダーと連携しています。続けると、今の「Cafetalk lessons」カレンダー（レッスンの予定と参加リンクを含む）を削除し、今のアカウントへのアクセス許可を取り消してから、次に選ぶアカウントと連携します。"),
        [(CalendarPage.ConfirmReplace, "en")] = ("Replace your Google Calendar connection?", "Google Calendar is already connected. If you continue, we delete the current \"Cafetalk lessons\" calendar (with its lesson events and join links) and revoke our access to that account, then connect the account you choose next."),
        [(CalendarPage.ConfirmationRefused, "ja")] = ("確認を受け付けられませんでした", "この確認は使用済みか、期限切れか、カフェトーク以外のページから送信されました。何も変更されていません。カフェトークの講師設定からもう一度お試しください。"),
        [(CalendarPage.ConfirmationRefused, "en")] = ("The confirmation could not be accepted", "This confirmation was already used, has expired, or was sent from a page that is not Cafetalk's. Nothing was changed. Start again from your Cafetalk lecturer settings."),
        [(CalendarPage.ConnectionChanged, "ja")] = ("連携が変更されていました", "手続きの途中で Google カレンダーの連携が変わったため、何も変更していません。カフェトークの講師設定からもう一度お試しください。"),
        [(CalendarPage.ConnectionChanged, "en")] = ("Your connection changed meanwhile", "Your Google Calendar connection changed while this request was in progress, so nothing was changed. Start again from your Cafetalk lecturer settings."),
    };

    private static readonly Dictionary<string, (string Button, string Hint)> ReplaceButton = new()
    {
        ["ja"] = ("置き換えて続ける", "次に Google の画面に移動します。今の連携を残す場合は、このページを閉じてください。"),
        ["en"] = ("Replace and continue", "You will go to Google next. To keep the current connection, close this page."),
    };

    /// <summary>
    /// The page's HTML. <see cref="CalendarPage.ConfirmReplace"/> carries a form that posts the ticket and the one-time
    /// confirmation token back to the connect route; both appear only HTML-encoded inside hidden fields.
    /// </summary>
    public static string Render(CalendarPage page, string language, string? ticket = null, string? confirmToken = null)
    {
        var (title, body) = Texts[(page, language)];
        var role = page is CalendarPage.Connected or CalendarPage.ConfirmReplace ? "status" : "alert";
        var form = string.Empty;
        if (page == CalendarPage.ConfirmReplace && ticket is not null && confirmToken is not null)
        {
            var (button, hint) = ReplaceButton[language];
            form = $"""
                <form method="post" action="connect?lang={language}" aria-describedby="hint">
                  <input type="hidden" name="ticket" value="{WebUtility.HtmlEncode(ticket)}">
                  <input type="hidden" name="confirm" value="{WebUtility.HtmlEncode(confirmToken)}">
                  <button type="submit" id="primary">{WebUtility.HtmlEncode(button)}</button>
                  <p id="hint" class="hint">{WebUtility.HtmlEncode(hint)}</p>
                </form>
                """;
        }

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
              button { font: inherit; font-size: 1.1rem; padding: .75rem 1.5rem; border: 0; border-radius: 8px; background: #b3471d; color: #fff; cursor: pointer; }
              button:focus-visible { outline: 3px solid #1d5fb3; outline-offset: 3px; }
              .hint { color: #555; font-size: .9rem; }
            </style>
            </head>
            <body>
            <main data-page="{{page.ToString().ToLowerInvariant()}}">
              <h1 id="title">{{WebUtility.HtmlEncode(title)}}</h1>
              <p role="{{role}}">{{WebUtility.HtmlEncode(body)}}</p>
              {{form}}
            </main>
            </body>
            </html>
            """;
    }
}
