using System.IO.Pipelines;
using Cafetalk.Integrations.Http;
using Cafetalk.Integrations.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Cafetalk.Integrations.Tests.Http;

/// <summary>The bound every HTTP function reads its body under, without any server's limits in front of it.</summary>
public sealed class RequestBodyTests
{
    private const int Limit = 1024;

    private static HttpRequest Request(Stream body, long? contentLength = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        return context.Request;
    }

    [Fact]
    public async Task BodyAtTheLimit_WithoutContentLength_IsReadWhole()
    {
        var body = Enumerable.Repeat((byte)'x', Limit).ToArray();

        var read = await RequestBody.ReadAsync(Request(new MemoryStream(body)), Limit, TimeProvider.System, CancellationToken.None);

        Assert.Equal(BodyReadOutcome.Read, read.Outcome);
        Assert.Equal(body, read.Bytes.ToArray());
    }

    [Fact]
    public async Task OneByteOver_WithoutContentLength_IsTooLarge_AndNotReadToTheEnd()
    {
        var stream = new MemoryStream(new byte[100 * Limit]);

        var read = await RequestBody.ReadAsync(Request(stream), Limit, TimeProvider.System, CancellationToken.None);

        Assert.Equal(BodyReadOutcome.TooLarge, read.Outcome);
        Assert.True(stream.Position <= 32 * 1024, $"read {stream.Position} bytes of a body it had already refused");
    }

    [Fact]
    public async Task ContentLengthOverTheLimit_IsTooLarge_BeforeAnyByteIsRead()
    {
        var stream = new MemoryStream(new byte[10]);

        var read = await RequestBody.ReadAsync(Request(stream, contentLength: Limit + 1), Limit, TimeProvider.System, CancellationToken.None);

        Assert.Equal(BodyReadOutcome.TooLarge, read.Outcome);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task BodyThatStopsArriving_IsTooSlow_WhenItsTimeIsUp()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2027, 3, 1, 9, 0, 0, TimeSpan.Zero));
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(new byte[] { (byte)'{' });

        var reading = RequestBody.ReadAsync(Request(pipe.Reader.AsStream()), Limit, time, CancellationToken.None);
        time.Advance(RequestBody.ReadTimeout - TimeSpan.FromSeconds(1));
        await Task.Delay(50);
        var stillWaiting = !reading.IsCompleted;
        time.Advance(TimeSpan.FromSeconds(1));
        var read = await reading.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(stillWaiting);
        Assert.Equal(BodyReadOutcome.TooSlow, read.Outcome);
    }

    [Theory]
    [InlineData(StatusCodes.Status408RequestTimeout, BodyReadOutcome.TooSlow)]
    [InlineData(StatusCodes.Status413PayloadTooLarge, BodyReadOutcome.TooLarge)]
    public async Task ServerCuttingTheSenderOff_IsReportedAsTheSameRefusal(int status, BodyReadOutcome expected)
    {
        var read = await RequestBody.ReadAsync(Request(new ThrowingStream(new BadHttpRequestException("cut off", status))), Limit, TimeProvider.System, CancellationToken.None);

        Assert.Equal(expected, read.Outcome);
    }

    private sealed class ThrowingStream(Exception exception) : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromException<int>(exception);
    }
}
