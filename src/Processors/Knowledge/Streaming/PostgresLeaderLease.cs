using Npgsql;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// Leadership of one job per deployment through a PostgreSQL session advisory lock: the process holding the lock on
/// its own connection leads; the lock goes with the connection, so a crashed or partitioned leader loses it and
/// another process takes over (issue 8 D14: one semantic-id / IUI trainer per deployment, the others follow).
/// </summary>
public sealed class PostgresLeaderLease(NpgsqlDataSource db, long key) : IAsyncDisposable
{
    /// <summary>Advisory-lock key of the knowledge role's model trainer ("ReaSeq" + 0x4B = 'K').</summary>
    public const long KnowledgeTrainerKey = 0x526561536571004B;

    private NpgsqlConnection? _connection;

    public bool IsLeader => _connection is not null;

    /// <summary>True while this process leads: keeps a held lock alive, or tries to take a free one.</summary>
    public async Task<bool> TryAcquireAsync(CancellationToken ct)
    {
        if (_connection is not null)
        {
            try
            {
                await using var ping = new NpgsqlCommand("select 1", _connection);
                await ping.ExecuteScalarAsync(ct);
                return true;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
            {
                // The session (and with it the lock) is gone: another process may lead by now.
                await ReleaseAsync();
            }
        }
        var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await using var take = new NpgsqlCommand("select pg_try_advisory_lock($1)", connection);
            take.Parameters.AddWithValue(key);
            if (await take.ExecuteScalarAsync(ct) is true)
            {
                _connection = connection;
                return true;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return false;
    }

    /// <summary>Gives leadership up (closing the session releases the lock).</summary>
    public async Task ReleaseAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is null) return;
        try
        {
            // Explicitly: a pooled connection keeps its session (and the lock) until the pool reuses it.
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock($1)", connection);
            unlock.Parameters.AddWithValue(key);
            await unlock.ExecuteScalarAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
        {
            // The session is gone, and the lock with it.
        }
        await connection.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(ReleaseAsync());
}
