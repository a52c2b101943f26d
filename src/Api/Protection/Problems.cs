using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace ReaSeq.Api.Protection;

/// <summary>Errors as RFC 9457 problem+json: one clear title and detail, never a stack trace.</summary>
public static class Problems
{
    public static IResult Result(int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title);

    public static Task Write(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new ProblemDetails { Status = status, Title = title, Detail = detail, Instance = context.Request.Path },
            (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
    }
}
