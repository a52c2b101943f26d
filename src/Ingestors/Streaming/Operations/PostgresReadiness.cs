using Npgsql;

namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>Ready while PostgreSQL (the state store every role commits to) answers a query.</summary>
public sealed class PostgresReadiness(NpgsqlDataSource db) : IReadinessContributor
{
    public string Name => "postgres";

    public async Task<ReadinessCheck> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var cmd = db.CreateCommand("select 1");
            await cmd.ExecuteScalarAsync(cancellationToken);
            return ReadinessCheck.Ok();
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException ||
                                  (e is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            if (e is NpgsqlException) StreamingMetrics.PostgresError("readiness", e);
            // The message only: a connection error never includes the connection string's password.
            return ReadinessCheck.NotReady(e is OperationCanceledException ? "no answer in time" : e.Message);
        }
    }
}
