using Confluent.Kafka;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tests.Operations;

/// <summary>Kafka security settings reach every client configuration; missing credentials are refused by name.</summary>
public sealed class KafkaSecurityOptionsTests
{
    [Fact]
    public void Typed_SASL_and_TLS_settings_reach_every_client_configuration()
    {
        var options = new KafkaOptions
        {
            SecurityProtocol = SecurityProtocol.SaslSsl,
            SaslMechanism = SaslMechanism.ScramSha512,
            SaslUsername = "svc-reaseq",
            SaslPassword = "pw",
            SslCaLocation = "/etc/reaseq/kafka-tls/ca.crt",
        };
        options.Validate();
        var config = new ClientConfig();
        options.ApplySecurity(config);
        var set = config.ToDictionary(kv => kv.Key, kv => kv.Value);
        Assert.Equal("sasl_ssl", set["security.protocol"]);
        Assert.Equal("SCRAM-SHA-512", set["sasl.mechanism"]);
        Assert.Equal("svc-reaseq", set["sasl.username"]);
        Assert.Equal("pw", set["sasl.password"]);
        Assert.Equal("/etc/reaseq/kafka-tls/ca.crt", set["ssl.ca.location"]);
    }

    [Fact]
    public void SASL_without_credentials_is_refused_naming_the_settings_not_the_values()
    {
        var options = new KafkaOptions { SecurityProtocol = SecurityProtocol.SaslPlaintext, SaslUsername = "svc", SaslPassword = "" };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Kafka:SaslPassword", e.Message);
        new KafkaOptions { SecurityProtocol = SecurityProtocol.Ssl }.Validate(); // TLS alone needs no credentials
    }
}
