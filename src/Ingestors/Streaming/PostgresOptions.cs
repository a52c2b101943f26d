using System.ComponentModel.DataAnnotations;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>Configuration section "Postgres" (env: REASEQ__Postgres__ConnectionString).</summary>
public sealed class PostgresOptions
{
    public const string Section = "Postgres";

    [Required(ErrorMessage = "Postgres:ConnectionString is required (make run starts a local server and sets it)")]
    public string ConnectionString { get; set; } = "";
}
