using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using ReaSeq.Contracts;
using ReaSeq.Ingestors.Streaming.Operations;
using ReaSeq.Tests.Infrastructure;

namespace ReaSeq.Tests.Operations;

/// <summary>W3C trace context travels in Kafka headers: the consumer's span continues the producer's trace.</summary>
[Collection(PlatformCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class TracePropagationTests(PostgresFixture postgres)
{
    private static readonly ActivitySource TestSource = new("ReaSeq.Tests.Tracing");

    [Fact]
    public async Task A_trace_follows_a_record_from_produce_to_consume()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is StreamingTracing.SourceName or "ReaSeq.Tests.Tracing",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        await using var platform = await TestPlatform.StartAsync(postgres);
        ActivityTraceId traceId;
        using (var request = TestSource.StartActivity("checkout request"))
        {
            traceId = request!.TraceId;
            platform.Producer.Produce(Topics.Clicks, "u1", new ClickEvent
            {
                EventId = "e1",
                UserId = "u1",
                ItemId = "i1",
                TsMs = 1_700_000_000_000,
                Action = ClickAction.CLICK,
            });
            platform.Producer.Flush();
        }
        // The record carries the publish span's context.
        var record = Assert.Single(platform.ReadToEnd(Topics.Clicks));
        var context = StreamingTracing.Extract(record.Message.Headers);
        Assert.Equal(traceId, context.TraceId);

        platform.Run(platform.NewClickIngestor(), "trace-test");
        await TestPlatform.WaitUntilAsync(() => Task.FromResult(stopped.Any(a => a.Kind == ActivityKind.Consumer && a.TraceId == traceId)),
            TimeSpan.FromSeconds(30), "the consumer's span of the traced record");

        var publish = Assert.Single(stopped, a => a.Kind == ActivityKind.Producer && a.TraceId == traceId);
        var consume = Assert.Single(stopped, a => a.Kind == ActivityKind.Consumer && a.TraceId == traceId);
        Assert.Equal(publish.SpanId, consume.ParentSpanId);
        Assert.Equal(context.SpanId, consume.ParentSpanId);
        Assert.Equal("reaseq.ingest-clicks", consume.GetTagItem("messaging.consumer.group.name"));
        Assert.Equal(ActivityStatusCode.Unset, consume.Status);
    }

    [Fact]
    public void Records_without_or_with_malformed_context_start_no_trace()
    {
        Assert.Equal(default, StreamingTracing.Extract(null));
        Assert.Equal(default, StreamingTracing.Extract(new Headers()));
        var headers = new Headers { { StreamingTracing.TraceParentHeader, "not-a-traceparent"u8.ToArray() } };
        Assert.Equal(default, StreamingTracing.Extract(headers));
    }
}
