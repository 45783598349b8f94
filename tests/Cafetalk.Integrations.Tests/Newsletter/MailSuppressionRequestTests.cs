using Cafetalk.Integrations.Newsletter;

namespace Cafetalk.Integrations.Tests.Newsletter;

public sealed class MailSuppressionRequestTests
{
    [Fact]
    public void TryParse_WhatTheNewsletterHandlersWrite_RoundTrips()
    {
        var request = new MailSuppressionRequest("sub-0123456789abcdef0123456789abcdef", "cafetalk-news");

        Assert.Equal(request, MailSuppressionRequest.TryParse(request.ToJson()));
    }

    // Found by fuzzing (QueueHandlerFuzzTests, mail-suppressions): a subject or list that is not a table key made the
    // subscription read fail with 400, so the message was retried five times and poisoned without a reason.
    [Theory]
    [InlineData("{\"subjectRef\":\"sub-0/0\",\"list\":\"lessons.tips\"}")]
    [InlineData("{\"subjectRef\":\"lec_Mkr!7q9Zx/../x\",\"list\":\"lessons.tips\"}")]
    [InlineData("{\"subjectRef\":\"sub-d69a8e8a4cb76bc0e5130f6973311bbc\",\"list\":\"a/b\"}")]
    [InlineData("{\"subjectRef\":\"America/Argentina/Buenos_Aires\",\"list\":\"cafetalk-news\"}")]
    [InlineData("{\"subjectRef\":\"sub-#\",\"list\":\"lessons.tips\"}")]
    [InlineData("{\"subjectRef\":\"sub-58320e2cf4ba35464d64cbd4dab69c9d\",\"list\":\" \"}")]
    [InlineData("{\"subjectRef\":\"sub-b90455b0e5405cd5322336f74d10c\",\"list\":\"cafetalk-news\"}")]
    [InlineData("{\"subjectRef\":\"sub-0123456789abcdef0123456789abcdef\",\"list\":\"\\ud800\"}")]
    public void TryParse_SubjectOrListThatIsNotAKey_IsRefused(string message) =>
        Assert.Null(MailSuppressionRequest.TryParse(message));

    [Fact]
    public void TryParse_TextWithAnUnpairedSurrogate_IsRefusedWithoutThrowing() =>
        Assert.Null(MailSuppressionRequest.TryParse("{\"subjectRef\":\"sub-\uD800\",\"list\":\"x\"}"));
}
