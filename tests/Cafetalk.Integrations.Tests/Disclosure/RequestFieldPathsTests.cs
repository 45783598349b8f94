using System.Text;
using Cafetalk.Integrations.Disclosure;

namespace Cafetalk.Integrations.Tests.Disclosure;

public sealed class RequestFieldPathsTests
{
    [Fact]
    public void FromJson_NestedObjectsAndArrays_ListsLeafPaths()
    {
        var json = """{"topic":"Lesson","settings":{"waiting_room":true,"empty":{}},"recipient_emails":["a@x","b@x"],"items":[{"id":1}],"none":[]}"""u8;

        var paths = RequestFieldPaths.FromJson(json);

        Assert.Equal(["topic", "settings.waiting_room", "settings.empty", "recipient_emails[]", "items[].id", "none[]"], paths);
    }

    [Fact]
    public void FromJson_KeyThatIsAnEmailOrForgesNesting_IsMasked()
    {
        var paths = RequestFieldPaths.FromJson("""{"alice@example.com":1,"settings.waiting_room":true}"""u8);

        Assert.Equal([RequestFieldPaths.MaskedKey], paths);
    }

    [Fact]
    public void FromJson_NotJson_IsUninspectable()
    {
        Assert.Throws<UninspectableBodyException>(() => RequestFieldPaths.FromJson("{topic:"u8));
    }

    [Fact]
    public void FromQuery_Parameters_ArePrefixedNamesWithoutValues()
    {
        var paths = RequestFieldPaths.FromQuery(new Uri("https://x.test/a?grant_type=account_credentials&account_id=abc&grant_type=again"));

        Assert.Equal(["query:grant_type", "query:account_id"], paths);
    }

    [Fact]
    public async Task ReadBodyAsync_FormBody_ListsKeys()
    {
        using var content = new FormUrlEncodedContent([new("token", "secret-value"), new("client_id", "c")]);

        var paths = await RequestFieldPaths.ReadBodyAsync(content, CancellationToken.None);

        Assert.Equal(["token", "client_id"], paths);
    }

    [Fact]
    public async Task ReadBodyAsync_MultipartBody_IsUninspectable()
    {
        using var content = new MultipartFormDataContent { { new StringContent("x"), "field" } };

        var ex = await Assert.ThrowsAsync<UninspectableBodyException>(() => RequestFieldPaths.ReadBodyAsync(content, CancellationToken.None));

        Assert.Contains("multipart/form-data", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadBodyAsync_JsonWithCharset_IsParsed()
    {
        using var content = new StringContent("""{"type":2}""", Encoding.UTF8, "application/json");

        Assert.Equal(["type"], await RequestFieldPaths.ReadBodyAsync(content, CancellationToken.None));
    }
}
