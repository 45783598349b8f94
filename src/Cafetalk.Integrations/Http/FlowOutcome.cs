namespace Cafetalk.Integrations.Http;

/// <summary>
/// What a browser- or site-facing flow (calendar connect, newsletter, privacy office) answers, as plain values: the HTTP
/// adapter (Cafetalk.Integrations.Web) turns each case into a response with the security headers, so a flow knows no
/// ASP.NET type and is tested by calling it. A closed union: the cases below are the only ones.
/// </summary>
public abstract record FlowOutcome
{
    private FlowOutcome()
    {
    }

    /// <summary>The HTTP status of the answer.</summary>
    public abstract int Status { get; }

    /// <summary>The flow's state cookie to set, or to expire (<see cref="FlowCookie.Value"/> null); null leaves cookies alone.</summary>
    public FlowCookie? Cookie { get; init; }

    /// <summary>Where the page's forms may post (the CSP <c>form-action</c> sources); null: the answer has no forms of ours.</summary>
    public string? FormAction { get; init; }

    /// <summary>Sends the browser on: 302 after a GET, 303 after a POST (so the browser follows with a GET).</summary>
    public sealed record Redirect(Uri To, bool AfterPost = false) : FlowOutcome
    {
        public override int Status => AfterPost ? 303 : 302;
    }

    /// <summary>A server-rendered HTML page.</summary>
    public sealed record Page(int PageStatus, string Html) : FlowOutcome
    {
        public override int Status => PageStatus;
    }

    /// <summary>A refusal as RFC 9457 problem details; <paramref name="BrowserPage"/>, when given, is shown instead to a client that accepts HTML.</summary>
    public sealed record Refused(int RefusedStatus, FlowProblem Problem, string? BrowserPage = null) : FlowOutcome
    {
        public override int Status => RefusedStatus;
    }

    /// <summary>A JSON answer to a server-to-server caller (the site, the privacy office).</summary>
    public sealed record Answer(int AnswerStatus, object Body) : FlowOutcome
    {
        public override int Status => AnswerStatus;
    }

    /// <summary>A document to hand over as it is (200), as a download named <paramref name="DownloadName"/> when given.</summary>
    public sealed record Document(string ContentType, byte[] Content, string? DownloadName = null) : FlowOutcome
    {
        public override int Status => 200;
    }
}
