using Microsoft.AspNetCore.Http;

namespace ReaSeq.Api.Protection;

/// <summary>
/// Rejects /v1 requests without a valid key (401, problem+json) when keys are required, and records who the caller is
/// (key identity, else client address) for the per-key rate limit. The OpenAPI document stays readable without a key.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeyRing keys)
{
    public const string CallerItem = "reaseq.caller";

    public async Task InvokeAsync(HttpContext context)
    {
        string? caller = null;
        var presented = ApiKeyRing.Presented(context.Request);
        if (presented is not null) caller = keys.Identify(presented);
        if (keys.Required && context.Request.Path.StartsWithSegments("/v1"))
        {
            if (presented is null)
            {
                await Problems.Write(context, StatusCodes.Status401Unauthorized, "API key required",
                    $"Send a key in the {ApiKeyRing.HeaderName} header (or Authorization: Bearer KEY).");
                return;
            }
            if (caller is null)
            {
                await Problems.Write(context, StatusCodes.Status401Unauthorized, "API key not accepted", "The key presented is not one of the configured keys.");
                return;
            }
        }
        context.Items[CallerItem] = caller ?? "addr:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        await next(context);
    }
}
