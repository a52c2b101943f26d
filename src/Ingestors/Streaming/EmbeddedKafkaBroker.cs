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
    }
}
