using ReaSeq.Api;
using ReaSeq.Api.Scoring;
using ReaSeq.Models.Training;
using ReaSeq.Tests.Infrastructure;
using ReaSeq.Tests.Models;
using static TorchSharp.torch;

namespace ReaSeq.Tests.Api;

/// <summary>
/// libtorch reads its thread count once per OS thread, so a process-wide setting never reached the scoring threads:
/// they ran libtorch's default (one per core), and on 2 cores two concurrent passes ran four threads and stalled on
/// descheduled helpers (the API benchmark's tail). The scoring threads now set Api:TorchThreads on themselves.
/// </summary>
[Collection(TorchCollection.Name)]
[Trait(Tier.Name, Tier.Integration)]
public sealed class ScoringThreadsTests
{
    [Fact]
    public async Task Scoring_threads_run_the_configured_libtorch_threads_whatever_the_process_setting()
    {
        try
        {
            TorchDevice.SetCpuThreads(2); // libtorch's default on a 2-core machine, or another role's setting
            using var workers = new ScoringWorkers(new ApiOptions { ScoringThreads = 1, TorchThreads = 1 });
            Assert.Equal(1, await workers.RunAsync(get_num_threads));

            TorchDevice.SetCpuThreads(2); // a later process-wide change does not reach a thread that ran ops already…
            Assert.Equal(1, await workers.RunAsync(get_num_threads));

            workers.TorchThreads = 2; // …while a change of the scoring threads' own setting does
            Assert.Equal(2, await workers.RunAsync(get_num_threads));
            workers.TorchThreads = 1;
            Assert.Equal(1, await workers.RunAsync(get_num_threads));
        }
        finally
        {
            TorchDevice.SetCpuThreads(1); // the collection's setting
        }
    }

    [Fact]
    public void A_thread_keeps_its_libtorch_threads_until_it_sets_them_itself()
    {
        try
        {
            TorchDevice.SetCpuThreads(2);
            using var ranOp = new ManualResetEventSlim();
            using var changed = new ManualResetEventSlim();
            int before = 0, after = 0, own = 0;
            var thread = new Thread(() =>
            {
                before = get_num_threads();
                ranOp.Set();
                changed.Wait();
                after = get_num_threads();
                TorchDevice.UseCpuThreadsOnThisThread(1);
                own = get_num_threads();
            });
            thread.Start();
            ranOp.Wait();
            TorchDevice.SetCpuThreads(1); // on this thread: the other one keeps its 2
            changed.Set();
            thread.Join();
            Assert.Equal((2, 2, 1), (before, after, own));
        }
        finally
        {
            TorchDevice.SetCpuThreads(1);
        }
    }
}
