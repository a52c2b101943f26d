using Microsoft.AspNetCore.Http;
using ReaSeq.Api.Protection;

namespace ReaSeq.Api.Endpoints;

/// <summary>The one check every id of a request passes.</summary>
public static class Ids
{
    /// <summary>A 400 problem when the id is blank, too long or holds control characters; null when it is fine.</summary>
    public static IResult? Invalid(string? id, ApiOptions options, string what)
    {
        if (string.IsNullOrWhiteSpace(id)) return Problems.Result(StatusCodes.Status400BadRequest, $"Missing {what}", $"The {what} must not be empty.");
        if (id.Length > options.MaxIdLength)
            return Problems.Result(StatusCodes.Status400BadRequest, $"Bad {what}", $"The {what} has {id.Length} characters; at most {options.MaxIdLength} are allowed.");
        if (id.Any(char.IsControl)) return Problems.Result(StatusCodes.Status400BadRequest, $"Bad {what}", $"The {what} contains control characters.");
        return null;
    }
}
