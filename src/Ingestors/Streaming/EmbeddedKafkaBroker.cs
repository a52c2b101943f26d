using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace ReaSeq.Ingestors.Streaming;

/// <summary>
/// librdkafka's built-in mock cluster, started in-process: real Kafka wire protocol on loopback, data in memory only.
/// It is what the platform runs on when no bootstrap servers are configured, and what tests use.
/// Topics must be created through <see cref="CreateTopic"/> (AdminClient topic creation never completes against it).
/// </summary>
public sealed class EmbeddedKafkaBroker : IDisposable
{
    private IntPtr _client;
    private IntPtr _cluster;
    private readonly object _gate = new();

    public EmbeddedKafkaBroker(int brokers = 3)
    {
        if (brokers < 1) throw new ArgumentOutOfRangeException(nameof(brokers), "An embedded cluster needs at least one broker");
        Native.EnsureResolver();
        var conf = Native.rd_kafka_conf_new();
        var error = new StringBuilder(512);
        // The mock cluster hangs off an ordinary client handle; it never sends anything itself.
        Native.rd_kafka_conf_set(conf, "client.id", "reaseq-embedded-broker", error, (UIntPtr)error.Capacity);
        // That handle has no bootstrap.servers by design; librdkafka's notice saying so would be printed raw on stderr,
        // over the progress display. Errors (level 3) still come through.
        Native.rd_kafka_conf_set(conf, "log_level", "3", error, (UIntPtr)error.Capacity);
        _client = Native.rd_kafka_new(0 /* producer */, conf, error, (UIntPtr)error.Capacity);
        if (_client == IntPtr.Zero) throw new InvalidOperationException($"librdkafka refused to create a handle: {error}");
        _cluster = Native.rd_kafka_mock_cluster_new(_client, brokers);
        if (_cluster == IntPtr.Zero)
        {
            Native.rd_kafka_destroy(_client);
            throw new InvalidOperationException("librdkafka could not start its mock cluster");
        }
        BootstrapServers = Marshal.PtrToStringAnsi(Native.rd_kafka_mock_cluster_bootstraps(_cluster))
            ?? throw new InvalidOperationException("Mock cluster reported no bootstrap servers");
        Brokers = brokers;
    }

    public string BootstrapServers { get; }

    public int Brokers { get; }

    /// <summary>Creates a topic; creating an existing one again is a no-op.</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var rf = Math.Clamp(replicationFactor, 1, Brokers);
            var err = Native.rd_kafka_mock_topic_create(_cluster, topic, partitions, rf);
            // 36 = TOPIC_ALREADY_EXISTS
            if (err != 0 && err != 36)
                throw new InvalidOperationException($"Mock cluster could not create topic {topic}: {Marshal.PtrToStringAnsi(Native.rd_kafka_err2str(err))}");
        }
    }

    /// <summary>
    /// Fault injection: disconnects broker <paramref name="brokerId"/> (1 … <see cref="Brokers"/>) and refuses new connections
    /// until <see cref="SetBrokerUp"/>. Leadership does not move, so the partitions it leads are unreachable meanwhile.
    /// </summary>
    public void SetBrokerDown(int brokerId) => Fault(brokerId, up: false);

    /// <summary>Lets a broker taken down by <see cref="SetBrokerDown"/> accept connections again.</summary>
    public void SetBrokerUp(int brokerId) => Fault(brokerId, up: true);

    /// <summary>Takes every broker of the cluster down (a full outage) or brings them all back.</summary>
    public void SetAllBrokers(bool up)
    {
        for (var id = 1; id <= Brokers; id++) Fault(id, up);
    }

    /// <summary>
    /// Fault injection: the next <paramref name="errors"/>.Length requests of Kafka API <paramref name="apiKey"/> (0 = Produce,
    /// 1 = Fetch, ...) to any broker fail with these Kafka error codes, one per request, in order.
    /// </summary>
    public void PushRequestErrors(short apiKey, params int[] errors)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            Native.rd_kafka_mock_push_request_errors_array(_cluster, apiKey, (UIntPtr)errors.Length, errors);
        }
    }

    /// <summary>Drops the request errors still queued for an API key.</summary>
    public void ClearRequestErrors(short apiKey)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            Native.rd_kafka_mock_clear_request_errors(_cluster, apiKey);
        }
    }

    /// <summary>
    /// Fault injection: moves the leadership of one partition to broker <paramref name="brokerId"/> (1 … <see cref="Brokers"/>),
    /// as a controller does when a leader fails; clients learn it from NOT_LEADER errors and a metadata refresh.
    /// </summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var err = Native.rd_kafka_mock_partition_set_leader(_cluster, topic, partition, brokerId);
            if (err != 0)
                throw new InvalidOperationException($"Mock cluster could not move the leader of {topic}[{partition}] to broker {brokerId}: {Marshal.PtrToStringAnsi(Native.rd_kafka_err2str(err))}");
        }
    }

    private void Fault(int brokerId, bool up)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_cluster == IntPtr.Zero, this);
            var err = up ? Native.rd_kafka_mock_broker_set_up(_cluster, brokerId) : Native.rd_kafka_mock_broker_set_down(_cluster, brokerId);
            if (err != 0)
                throw new InvalidOperationException($"Mock cluster could not set broker {brokerId} {(up ? "up" : "down")}: {Marshal.PtrToStringAnsi(Native.rd_kafka_err2str(err))}");
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != IntPtr.Zero) Native.rd_kafka_mock_cluster_destroy(_cluster);
            if (_client != IntPtr.Zero) Native.rd_kafka_destroy(_client);
            _cluster = IntPtr.Zero;
            _client = IntPtr.Zero;
        }
    }

    private static class Native
    {
        private const string Lib = "rdkafka";
        private static int _resolverSet;

        /// <summary>
        /// Finds the librdkafka that Confluent.Kafka ships: librdkafka.so first (needs libsasl2.so.3), then the
        /// centos8 build, which runs on Debian without it.
        /// </summary>
        public static void EnsureResolver()
        {
            if (Interlocked.Exchange(ref _resolverSet, 1) == 1) return;
            NativeLibrary.SetDllImportResolver(typeof(EmbeddedKafkaBroker).Assembly, Resolve);
        }

        private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
        {
            if (name != Lib) return IntPtr.Zero;
            var baseDir = AppContext.BaseDirectory;
            var candidates = new[]
            {
                Path.Combine(baseDir, "librdkafka.so"),
                Path.Combine(baseDir, "runtimes", "linux-x64", "native", "librdkafka.so"),
                Path.Combine(baseDir, "centos8-librdkafka.so"),
                Path.Combine(baseDir, "runtimes", "linux-x64", "native", "centos8-librdkafka.so"),
            };
            var failures = new List<string>();
            foreach (var candidate in candidates.Where(File.Exists))
            {
                if (NativeLibrary.TryLoad(candidate, out var handle)) return handle;
                failures.Add(candidate);
            }
            throw new DllNotFoundException(
                $"No loadable librdkafka next to {baseDir} (tried: {string.Join(", ", failures.DefaultIfEmpty("none found"))})");
        }

        [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
        [DllImport(Lib)] public static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, StringBuilder errstr, UIntPtr errstrSize);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
        [DllImport(Lib)] public static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
        [DllImport(Lib)] public static extern int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_err2str(int err);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
        [DllImport(Lib)] public static extern void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);
        [DllImport(Lib)] public static extern void rd_kafka_mock_clear_request_errors(IntPtr cluster, short apiKey);
        [DllImport(Lib)] public static extern int rd_kafka_mock_partition_set_leader(IntPtr cluster, string topic, int partition, int brokerId);
    }
}
