using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using ReaSeq.Api.Dto;
using ReaSeq.Api.Protection;
using ReaSeq.Api.Scoring;

namespace ReaSeq.Api.Endpoints;

/// <summary>POST /v1/score and GET /v1/models.</summary>
public static class ScoreEndpoints
{
    /// <summary>The Server-Timing metric of a score response: the handler's milliseconds, body read to response ready.</summary>
    public const string ServerTimingMetric = "score";

    public static async Task<IResult> ScoreAsync(HttpRequest request, ScoringService scoring, ApiOptions options, IOptions<JsonOptions> json, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        if (request.ContentLength > options.MaxRequestBytes) return TooLarge(options);
        if (!request.HasJsonContentType())
            return Problems.Result(StatusCodes.Status415UnsupportedMediaType, "JSON expected", "Send the request body as application/json.");
        ScoreRequest? body;
        try
        {
            // Read here rather than bound by the framework: a malformed body gets a message that says where it broke.
            body = await JsonSerializer.DeserializeAsync<ScoreRequest>(request.Body, json.Value.SerializerOptions, ct);
        }
        catch (JsonException e)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Malformed JSON",
                $"The body is not a valid score request: {e.Message.Split(" Path:")[0]} (at {e.Path ?? "$"}, line {e.LineNumber + 1}).");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(options);
        }
        if (body is null) return Problems.Result(StatusCodes.Status400BadRequest, "Missing body", "Send {\"user_id\": ..., \"candidates\": [...]}.");
        if (Ids.Invalid(body.UserId, options, "user_id") is { } badUser) return badUser;
        if (body.Candidates is null || body.Candidates.Count == 0)
            return Problems.Result(StatusCodes.Status400BadRequest, "No candidates", "candidates must list at least one item id.");
        if (body.Candidates.Count > options.MaxCandidates)
        {
            return Problems.Result(StatusCodes.Status400BadRequest, "Too many candidates",
                $"{body.Candidates.Count} candidates sent; at most {options.MaxCandidates} per request.");
        }
        for (var i = 0; i < body.Candidates.Count; i++)
            if (Ids.Invalid(body.Candidates[i], options, $"candidates[{i}]") is { } badItem) return badItem;

        var response = await scoring.ScoreAsync(body.UserId!, body.Candidates, ct);
        if (response is null)
            return Problems.Result(StatusCodes.Status503ServiceUnavailable, "No model", "No CTR model version is registered and loaded yet; the trainer role publishes one.");
        // Lets a ranker (and the benchmark) tell the server's time, including the wait for a scoring thread, from the network's.
        request.HttpContext.Response.Headers["Server-Timing"] =
            string.Create(CultureInfo.InvariantCulture, $"{ServerTimingMetric};dur={Stopwatch.GetElapsedTime(started).TotalMilliseconds:F2}");
        return Results.Ok(response);
    }

    public static async Task<IResult> ModelsAsync(ModelRegistry registry, CtrModelHolder holder, ApiOptions options, CancellationToken ct)
    {
        var serving = holder.Current;
        var rows = await registry.ListAsync(100, ct);
        return Results.Ok(new ModelsView(options.ModelName,
            serving is null ? null : new ServedModelView(serving.Version, serving.Seq, serving.LoadedAt, serving.Options.PathwayName),
            rows.Select(r => new ModelVersionView(r.Version, r.Seq, r.Status, r.CreatedAt, r.Version == serving?.Version, r.Metrics, r.Config)).ToList()));
    }

    private static IResult TooLarge(ApiOptions options) =>
        Problems.Result(StatusCodes.Status413PayloadTooLarge, "Request too large", $"The body exceeds {options.MaxRequestBytes} bytes.");
}
