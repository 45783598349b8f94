using Cafetalk.Integrations.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Cafetalk.Integrations.Web;

/// <summary>Reads a posted form (urlencoded or multipart) within the route's limit, for a flow that takes a <see cref="PostedForm"/>.</summary>
public static class PostedForms
{
    public static async Task<PostedForm> ReadAsync(HttpRequest request, int maxBytes, TimeProvider time, CancellationToken cancellationToken)
    {
        var body = await RequestBody.ReadAsync(request, maxBytes, time, cancellationToken);
        switch (body.Outcome)
        {
            case BodyReadOutcome.TooLarge:
                return PostedForm.Failed(PostedFormOutcome.TooLarge);
            case BodyReadOutcome.TooSlow:
                return PostedForm.Failed(PostedFormOutcome.TooSlow);
            case BodyReadOutcome.Unreadable:
                return PostedForm.Failed(PostedFormOutcome.Unreadable);
        }

        if (!request.HasFormContentType)
        {
            return PostedForm.Failed(PostedFormOutcome.NotAForm);
        }

        try
        {
            // The form is parsed from the bytes already read, never from the connection.
            request.Body = new MemoryStream(body.Bytes.ToArray(), writable: false);
            request.ContentLength = body.Bytes.Length;
            var options = new FormOptions { ValueLengthLimit = maxBytes, MultipartBodyLengthLimit = maxBytes, ValueCountLimit = 16 };
            request.HttpContext.Features.Set<IFormFeature>(new FormFeature(request, options));
            var form = await request.ReadFormAsync(cancellationToken);
            return PostedForm.Of(form.ToDictionary(field => field.Key, field => field.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or BadHttpRequestException)
        {
            return PostedForm.Failed(PostedFormOutcome.Malformed);
        }
    }
}
