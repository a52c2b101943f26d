using System.Collections.Concurrent;
using ReaSeq.Models.Training;

namespace ReaSeq.Api.Scoring;

/// <summary>
/// Dedicated threads for the model's work on the score path (Api:ScoringThreads, default one per core). Requests hand
/// their user step and candidate step here and await them, so (1) the thread pool that serves Kestrel, the feature
/// reads and the Kafka listeners is never blocked by a forward pass (a pool thread busy in libtorch for milliseconds
/// delays every queued continuation, and on 2 cores the pool grows only slowly), and (2) at most one forward pass per
/// core runs at a time, each on one libtorch thread, rather than many passes time-slicing the cores. A request's
/// candidates are split across the threads (<see cref="Split"/>; by count alone, never by which threads are idle, so how a
/// request is split does not depend on load): each candidate's score depends only on the
/// user state and that candidate (paper §2.2.1: the candidate batch is independent given the user side), so the parts
/// score exactly as one batch would. Each thread runs its passes with <see cref="ApiOptions.TorchThreads"/> libtorch
/// threads, set on the thread itself: libtorch reads the count once per thread, so a process-wide setting made after a
/// thread's first op never reaches it (it kept libtorch's one per core, and two passes then ran four threads on two
/// cores, each pass stalling on a descheduled helper).
/// </summary>
public sealed class ScoringWorkers : IDisposable
{
    /// <summary>Fewest candidates a part gets: below this a second pass's fixed per-op cost outweighs the split.</summary>
    public const int MinCandidatesPerPart = 50;

    private readonly BlockingCollection<Action> _queue = new(new ConcurrentQueue<Action>());
    private readonly Thread[] _threads;

    private volatile int _torchThreads;

    public ScoringWorkers(ApiOptions options)
    {
        _torchThreads = options.TorchThreads;
        var count = options.ScoringThreads > 0 ? options.ScoringThreads : Environment.ProcessorCount;
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"reaseq-scoring-{i}" };
            _threads[i].Start();
        }
    }

    public int Threads => _threads.Length;

    /// <summary>libtorch threads per pass; a change applies to the next work item of every thread.</summary>
    public int TorchThreads
    {
        get => _torchThreads;
        set => _torchThreads = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Thread count must be positive.");
    }

    /// <summary>Runs <paramref name="work"/> on a scoring thread.</summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    /// <summary>
    /// Scores <paramref name="count"/> candidates in parts of at least <see cref="MinCandidatesPerPart"/>, at most one
    /// per thread, in parallel; <paramref name="score"/>(start, length) scores one contiguous part. Results in order.
    /// </summary>
    public async Task<float[]> ScoreInPartsAsync(int count, Func<int, int, float[]> score)
    {
        var parts = Split(count, Threads);
        if (parts.Count == 1) return await RunAsync(() => score(0, count));
        var results = await Task.WhenAll(parts.Select(p => RunAsync(() => score(p.Start, p.Length))));
        var all = new float[count];
        for (var i = 0; i < parts.Count; i++) results[i].CopyTo(all, parts[i].Start);
        return all;
    }

    /// <summary>Contiguous parts covering [0, count): min(threads, count / MinCandidatesPerPart) of them (at least one), sizes differing by at most one.</summary>
    public static IReadOnlyList<(int Start, int Length)> Split(int count, int threads)
    {
        var n = Math.Max(1, Math.Min(threads, count / MinCandidatesPerPart));
        var parts = new List<(int, int)>(n);
        for (int i = 0, start = 0; i < n; i++)
        {
            var length = count / n + (i < count % n ? 1 : 0);
            parts.Add((start, length));
            start += length;
        }
        return parts;
    }

    private void Work()
    {
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            TorchDevice.UseCpuThreadsOnThisThread(_torchThreads);
            item();
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var thread in _threads) thread.Join(TimeSpan.FromSeconds(5));
        _queue.Dispose();
    }
}
