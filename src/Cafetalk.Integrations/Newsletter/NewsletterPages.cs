using System.Net;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>The pages a member sees.</summary>
public enum NewsletterPage
{
    /// <summary>GET: asks to confirm; changes nothing, because mail scanners follow every link.</summary>
    Confirm,
    Unsubscribed,
    Resubscribed,
    InvalidLink,
    BadRequest,
    /// <summary>Resubscribe posted cross-site, or without its one-time confirmation, or with a used or expired one.</summary>
    ConfirmationRefused,
}

/// <summary>
/// Small server-rendered pages in Japanese and English: one heading, one sentence, one button; inline styles
/// only (no external assets), labelled controls, natural focus order.
/// </summary>
public static class NewsletterPages
{
    private sealed record Text(string Title, string Body, string? Button, string? ButtonHint);

    private static readonly Dictionary<(NewsletterPage, string), Text> Texts = new()
    {
        [(NewsletterPage.Confirm, "ja")] = new("メールマガジンの配信停止", "カフェトークのメールマガジンの配信を停止しますか？ボタンを押すとすぐに停止します。", "配信を停止する", "このボタンを押すと、このリストのメールマガジンが届かなくなります。"),
        [(NewsletterPage.Confirm, "en")] = new("Unsubscribe from the newsletter", "Stop receiving the Cafetalk newsletter? It stops as soon as you press the button.", "Unsubscribe", "Pressing this button stops this newsletter list from being sent to you."),
        [(NewsletterPage.Unsubscribed, "ja")] = new("配信を停止しました", "カフェトークのメールマガジンの配信を停止しました。再開したい場合は下のボタンを押してください。", "配信を再開する", "このボタンを押すと、メールマガジンの配信が再開されます。"),
        [(NewsletterPage.Unsubscribed, "en")] = new("You are unsubscribed", "You will no longer receive the Cafetalk newsletter. Changed your mind? Press the button below.", "Resubscribe", "Pressing this button starts sending you the newsletter again."),
        [(NewsletterPage.Resubscribed, "ja")] = new("配信を再開しました", "カフェトークのメールマガジンの配信を再開しました。", null, null),
        [(NewsletterPage.Resubscribed, "en")] = new("You are subscribed again", "You will receive the Cafetalk newsletter again.", null, null),
        [(NewsletterPage.InvalidLink, "ja")] = new("このリンクは無効です", "リンクが壊れているか、有効期限が切れています。最新のメールマガジンのリンクを使うか、カフェトーク事務局 (info@cafetalk.com) にお問い合わせください。", null, null),
        [(NewsletterPage.InvalidLink, "en")] = new("This link is not valid", "The link is damaged or no longer valid. Use the link in a recent newsletter, or contact Cafetalk support (info@cafetalk.com).", null, null),
        [(NewsletterPage.BadRequest, "ja")] = new("リクエストを処理できません", "ページを再読み込みして、もう一度お試しください。", null, null),
        [(NewsletterPage.BadRequest, "en")] = new("The request could not be processed", "Reload the page and try again.", null, null),
        [(NewsletterPage.ConfirmationRefused, "ja")] = new("配信の再開を確認できませんでした", "このボタンは使用済みか、期限切れか、カフェトーク以外のページから送信されました。配信は再開されていません。メールマガジンのリンクをもう一度開いてお試しください。", null, null),
        [(NewsletterPage.ConfirmationRefused, "en")] = new("Resubscribing could not be confirmed", "This button was already used, has expired, or was sent from a page that is not Cafetalk's. You are not subscribed again. Open the link in the newsletter again and retry.", null, null),
    };

    /// <summary>
    /// The page's HTML. The token only ever appears URL- and HTML-encoded inside the form's action. The unsubscribed
    /// page offers its resubscribe button only with <paramref name="confirmToken"/>, the one-time token the button posts.
    /// </summary>
    public static string Render(NewsletterPage page, string language, string? token, string? confirmToken = null)
    {
        var text = Texts[(page, language)];
        var other = language == "ja" ? "en" : "ja";
        var form = string.Empty;
        var resubscribe = page == NewsletterPage.Unsubscribed;
        if (text.Button is not null && token is not null && (!resubscribe || confirmToken is not null))
        {
            var action = resubscribe ? "resubscribe" : "unsubscribe";
            var target = WebUtility.HtmlEncode($"{action}?t={Uri.EscapeDataString(token)}&lang={language}");
            var fields = resubscribe
                ? $"<input type=\"hidden\" name=\"confirm\" value=\"{WebUtility.HtmlEncode(confirmToken)}\">"
                : "<input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\n  <input type=\"hidden\" name=\"source\" value=\"page\">";
            form = $"""
                <form method="post" action="{target}" aria-describedby="hint">
                  {fields}
                  <button type="submit" id="primary">{WebUtility.HtmlEncode(text.Button)}</button>
                  <p id="hint" class="hint">{WebUtility.HtmlEncode(text.ButtonHint!)}</p>
                </form>
                """;
        }

        var switchLink = token is null || page != NewsletterPage.Confirm
            ? string.Empty
            : $"""<p class="lang"><a href="{WebUtility.HtmlEncode($"unsubscribe?t={Uri.EscapeDataString(token)}&lang={other}")}" lang="{other}" hreflang="{other}">{(other == "en" ? "English" : "日本語")}</a></p>""";
        var role = page is NewsletterPage.InvalidLink or NewsletterPage.BadRequest or NewsletterPage.ConfirmationRefused ? "alert" : "status";
        return $$"""
            <!doctype html>
            <html lang="{{language}}">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="robots" content="noindex, nofollow">
            <title>{{WebUtility.HtmlEncode(text.Title)}} | Cafetalk</title>
            <style>
              body { font-family: system-ui, "Hiragino Sans", "Noto Sans JP", sans-serif; margin: 0; background: #faf7f2; color: #222; }
              main { max-width: 36rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
              h1 { font-size: 1.5rem; margin-top: 0; }
              button { font: inherit; font-size: 1.1rem; padding: .75rem 1.5rem; border: 0; border-radius: 8px; background: #b3471d; color: #fff; cursor: pointer; }
              button:focus-visible, a:focus-visible { outline: 3px solid #1d5fb3; outline-offset: 3px; }
              .hint, .lang { color: #555; font-size: .9rem; }
            </style>
            </head>
            <body>
            <main>
              <h1 id="title">{{WebUtility.HtmlEncode(text.Title)}}</h1>
              <p role="{{role}}">{{WebUtility.HtmlEncode(text.Body)}}</p>
              {{form}}
              {{switchLink}}
            </main>
            </body>
            </html>
            """;
    }
}
