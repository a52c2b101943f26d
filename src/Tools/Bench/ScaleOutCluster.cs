using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming;

namespace ReaSeq.Tools.Bench;

/// <summary>
/// Several processes of one role as one consumer group, the way operators scale it (one process per pod): real
/// `reaseq run --roles ROLE` processes against one embedded broker (owned here, reached over TCP) and one PostgreSQL
/// database. Members join and leave while records flow; their /metrics say what each consumed.
/// </summary>
public sealed class ScaleOutCluster(string executable, string role, string connectionString, int partitions = 6) : IAsyncDisposable
{
    private readonly List<RoleProcess> _members = [];

    public EmbeddedKafkaBroker Broker { get; } = CreateBroker(partitions);
    public KafkaClientSupplier Kafka => _kafka ??= new KafkaClientSupplier(new KafkaOptions { Partitions = partitions }, Broker);
    private KafkaClientSupplier? _kafka;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };
    public IReadOnlyList<RoleProcess> Members => _members;

    private static EmbeddedKafkaBroker CreateBroker(int partitions)
    {
        var broker = new EmbeddedKafkaBroker(1);
        foreach (var topic in Topics.All) broker.CreateTopic(topic, partitions);
        return broker;
    }

    /// <summary>`reaseq` beside this program (the Tools build copies it), else the Host's build output.</summary>
    public static string FindExecutable()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "reaseq");
        if (File.Exists(beside)) return beside;
        throw new FileNotFoundException($"reaseq executable not found beside {AppContext.BaseDirectory}; build the solution first");
    }

    /// <summary>Starts one more member and waits until it reports ready (its first assignment loaded).</summary>
    public async Task<RoleProcess> StartMemberAsync(CancellationToken ct)
    {
        var port = FreePort();
        var start = new ProcessStartInfo(executable, ["run", "--roles", role, "--log-format", "json", "--log-level", "warning"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("REASEQ__", StringComparison.Ordinal)).ToList()) start.Environment.Remove(key);
        start.Environment["REASEQ__Postgres__ConnectionString"] = connectionString;
        start.Environment["REASEQ__Kafka__BootstrapServers"] = Broker.BootstrapServers;
        start.Environment["REASEQ__Kafka__Partitions"] = partitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["REASEQ__Kafka__StatisticsIntervalMs"] = "1000";
        start.Environment["REASEQ__Management__Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(start)!;
        var log = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.OutputDataReceived += (_, e) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var member = new RoleProcess(process, new Uri($"http://127.0.0.1:{port}/"), log);
        _members.Add(member);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"{role} member exited with {process.ExitCode}: {member.Log}");
            try
            {
                using var response = await Http.GetAsync(new Uri(member.Management, "/readyz"), ct);
                if (response.IsSuccessStatusCode) return member;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{role} member not ready within 60 s: {member.Log}");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Stops a member as Kubernetes does (SIGTERM): it hands its partitions over and exits.</summary>
    public async Task StopMemberAsync(RoleProcess member)
    {
        if (!member.Process.HasExited)
        {
            _ = Kill(member.Process.Id, 15);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await member.Process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { member.Process.Kill(entireProcessTree: true); }
        }
        _members.Remove(member);
        member.Dispose();
    }

    /// <summary>Waits until the group's members own all partitions of their topic between them, each at least one.</summary>
    public async Task WaitForBalanceAsync(string handler, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var owned = new List<double>();
            foreach (var m in _members)
                owned.Add((await m.MetricsAsync(Http, ct)).Where(s => s.Name == "reaseq_assigned_partitions" && s.Label("handler") == handler).Sum(s => s.Value));
            if (owned.Sum() == partitions && owned.All(o => o > 0)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{handler}: partitions not balanced over {_members.Count} members: {string.Join(",", owned)}");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Records of a consumer group made durable, per member, as their /metrics say.</summary>
    public async Task<List<double>> RecordsInAsync(string group, CancellationToken ct)
    {
        var counts = new List<double>();
        foreach (var m in _members)
            counts.Add((await m.MetricsAsync(Http, ct)).Where(s => s.Name == "reaseq_records_in_total" && s.Label("group") == group).Sum(s => s.Value));
        return counts;
    }

    /// <summary>The group's lag as the broker sees it: high watermark minus committed offset, over the topic's partitions.</summary>
    public long BrokerLag(string group, string topic)
    {
        using var consumer = Kafka.CreateConsumer(group, "scale-out-lag");
        var tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList();
        return consumer.Committed(tps, TimeSpan.FromSeconds(10))
            .Sum(c => Math.Max(0, consumer.QueryWatermarkOffsets(c.TopicPartition, TimeSpan.FromSeconds(10)).High.Value - Math.Max(0, c.Offset.Value)));
    }

    /// <summary>Polls the broker's lag of the group until it is 0 or <paramref name="timeout"/> passed; returns the last value.</summary>
    public long BrokerLagWithin(string group, string topic, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        long lag;
        while ((lag = BrokerLag(group, topic)) > 0 && DateTime.UtcNow < deadline) Thread.Sleep(250);
        return lag;
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    public async ValueTask DisposeAsync()
    {
        foreach (var m in _members.ToList()) await StopMemberAsync(m);
        Http.Dispose();
        _kafka?.Dispose();
        Broker.Dispose();
    }
}
