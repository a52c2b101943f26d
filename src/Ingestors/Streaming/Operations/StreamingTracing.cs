using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace ReaSeq.Ingestors.Streaming.Operations;

/// <summary>
/// W3C trace context in Kafka headers (`traceparent`, `tracestate`), so one trace follows a record from the producer
/// to every consumer job that handles it. Activities are only made while something listens to the source
/// "ReaSeq.Streaming" (an OpenTelemetry tracer provider, a test); otherwise the hot path pays one check.
/// </summary>
public static class StreamingTracing
{
    public const string SourceName = "ReaSeq.Streaming";
    public const string TraceParentHeader = "traceparent";
    public const string TraceStateHeader = "tracestate";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The publish span of one record (a child of the caller's current activity, if any) with its context written into
    /// the record's headers; null when nobody listens.
    /// </summary>
    public static Activity? StartPublish(string topic, Message<byte[]?, byte[]?> message)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity($"{topic} publish", ActivityKind.Producer);
        if (activity is null) return null;
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.destination.name", topic);
        Inject(activity, message.Headers ??= new Headers());
        return activity;
    }

    /// <summary>Writes <paramref name="activity"/>'s context as W3C headers (replacing any already there).</summary>
    public static void Inject(Activity activity, Headers headers)
    {
        headers.Remove(TraceParentHeader);
        headers.Remove(TraceStateHeader);
        headers.Add(TraceParentHeader, Encoding.ASCII.GetBytes(activity.Id!));
        if (!string.IsNullOrEmpty(activity.TraceStateString)) headers.Add(TraceStateHeader, Encoding.ASCII.GetBytes(activity.TraceStateString));
    }

    /// <summary>The producer's context carried by a record; default when it has none or a malformed one.</summary>
    public static ActivityContext Extract(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(TraceParentHeader, out var parent)) return default;
        string? state = headers.TryGetLastBytes(TraceStateHeader, out var s) ? Encoding.ASCII.GetString(s) : null;
        return ActivityContext.TryParse(Encoding.ASCII.GetString(parent), state, isRemote: true, out var context) ? context : default;
    }

    /// <summary>
    /// One process span per record of a batch, each a child of the context its producer sent (records without one get
    /// no span): started when the batch is handed over, ended when it is durable. Empty when nobody listens.
    /// </summary>
    public static List<Activity> StartProcess(string group, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        var spans = new List<Activity>();
        if (!Source.HasListeners()) return spans;
        var previous = Activity.Current;
        foreach (var r in batch)
        {
            var parent = Extract(r.Message.Headers);
            if (parent == default) continue;
            var activity = Source.StartActivity($"{r.Topic} process", ActivityKind.Consumer, parent);
            if (activity is null) continue;
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.destination.name", r.Topic);
            activity.SetTag("messaging.consumer.group.name", group);
            activity.SetTag("messaging.destination.partition.id", r.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            activity.SetTag("messaging.kafka.offset", r.Offset.Value);
            spans.Add(activity);
        }
        // Each started span became Activity.Current; the batch's handler runs under the caller's context, not a record's.
        Activity.Current = previous;
        return spans;
    }

    public static void End(List<Activity> spans, Exception? error)
    {
        if (spans.Count == 0) return;
        var previous = Activity.Current;
        foreach (var s in spans)
        {
            if (error is not null) s.SetStatus(ActivityStatusCode.Error, error.Message);
            s.Dispose();
        }
        Activity.Current = previous; // stopping a span makes its (remote, hence null) parent current
    }
}
