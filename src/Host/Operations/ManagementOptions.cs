using System.ComponentModel.DataAnnotations;
using System.Net;
using ReaSeq.Contracts.Validation;

namespace ReaSeq.Host.Operations;

/// <summary>Configuration section "Management": the endpoint every role process serves /metrics, /healthz and /readyz on.</summary>
public sealed class ManagementOptions : IValidatableObject
{
    public const string Section = "Management";

    /// <summary>False: no management endpoint (no metrics, no probes).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Address to listen on. Loopback by default, so a laptop run exposes nothing; in a pod the chart sets 0.0.0.0 so
    /// the kubelet's probes and Prometheus reach it.
    /// </summary>
    [Required] public string Address { get; set; } = "127.0.0.1";

    /// <summary>TCP port (Prometheus' conventional exporter port by default); 0 takes a free one (logged at start).</summary>
    [Range(0, 65_535)] public int Port { get; set; } = 9464;

    /// <summary>
    /// A consumer job stalled past its retry budget for longer than this fails liveness (/healthz) too, so the
    /// orchestrator restarts the pod; readiness fails at once. 0: liveness ignores stalls.
    /// </summary>
    [Range(0, 86_400)] public int UnhealthyAfterStalledSeconds { get; set; } = 300;

    /// <summary>Longest one readiness check (PostgreSQL, broker, model) may take before it counts as not ready.</summary>
    [Range(100, 60_000)] public int ReadinessTimeoutMs { get; set; } = 2_000;

    /// <summary>OTLP endpoint (e.g. http://otel-collector:4317) traces are exported to; empty: traces are not exported.</summary>
    public string? OtlpEndpoint { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => OptionsValidation.Results(Validate);

    public void Validate()
    {
        if (!IPAddress.TryParse(Address, out _))
            throw new ArgumentException($"Management:Address '{Address}' is not an IP address (use 127.0.0.1, 0.0.0.0 or ::)");
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _))
            throw new ArgumentException($"Management:OtlpEndpoint '{OtlpEndpoint}' is not an absolute URI");
    }
}
