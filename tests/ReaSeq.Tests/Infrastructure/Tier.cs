namespace ReaSeq.Tests.Infrastructure;

/// <summary>
/// Test tiers. Unit tests (no trait) run in-process on plain data in well under a minute: `make test-unit`.
/// Integration tests carry <c>[Trait(Tier.Name, Tier.Integration)]</c>: they start the embedded broker, a real
/// PostgreSQL, real processes (SIGKILL, SIGTERM), the ONNX encoder, LLamaSharp or libtorch: `make test-integration`.
/// </summary>
public static class Tier
{
    public const string Name = "Tier";
    public const string Integration = "Integration";
}
