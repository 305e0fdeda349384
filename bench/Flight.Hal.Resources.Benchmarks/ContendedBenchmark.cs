namespace Flight.Hal.Resources.Benchmarks;

/// <summary>The harness of the contention suites: <see cref="Threads"/> threads (the benchmark thread and
/// <c>Threads - 1</c> workers started once) run the same scenario body at once, released together by a barrier.</summary>
/// <remarks>A derived class marks its benchmarks with <c>OperationsPerInvoke</c> equal to the operations one body
/// performs, so the figure is wall time per operation per thread: perfect scaling shows the same figure for 1 and 2
/// threads. Derived classes call <see cref="StartWorkers"/> from their global setup and <see cref="StopWorkers"/> from
/// their cleanup.</remarks>
public abstract class ContendedBenchmark
{
    private Barrier _start = null!;
    private Barrier _done = null!;
    private Thread[] _workers = [];
    private volatile int _scenario;
    private volatile bool _stopping;

    /// <summary>Threads running the body at once.</summary>
    [BenchmarkDotNet.Attributes.Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Runs <paramref name="scenario"/> on every thread at once and returns the benchmark thread's result.</summary>
    protected long Run(int scenario)
    {
        _scenario = scenario;
        _start.SignalAndWait();
        long result = Body(scenario, 0);
        _done.SignalAndWait();
        return result;
    }

    /// <summary>One thread's share of an invocation.</summary>
    /// <param name="scenario">Which benchmark is running.</param>
    /// <param name="thread">0 for the benchmark thread, 1 to <c>Threads - 1</c> for the workers: an index for per-thread
    /// data prepared in setup (such as names).</param>
    protected abstract long Body(int scenario, int thread);

    protected void StartWorkers()
    {
        _stopping = false;
        _start = new Barrier(Threads);
        _done = new Barrier(Threads);
        _workers = new Thread[Threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int thread = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(thread)) { IsBackground = true };
            _workers[i].Start();
        }
    }

    protected void StopWorkers()
    {
        _stopping = true;
        _start.SignalAndWait();
        foreach (Thread worker in _workers)
        {
            worker.Join();
        }

        _start.Dispose();
        _done.Dispose();
    }

    private void WorkerLoop(int thread)
    {
        while (true)
        {
            _start.SignalAndWait();
            if (_stopping)
            {
                return;
            }

            Body(_scenario, thread);
            _done.SignalAndWait();
        }
    }
}
