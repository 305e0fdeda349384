namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>Measures GC allocation by the current thread around an action, after warming it up.</summary>
public static class Allocations
{
    /// <summary>Runs <paramref name="action"/> a few times to JIT and warm caches, then returns the bytes the current
    /// thread allocated on the GC heap during <paramref name="iterations"/> further runs.</summary>
    public static long Measure(Action action, int iterations = 1000)
    {
        for (int i = 0; i < 100; i++)
        {
            action();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < iterations; i++)
        {
            action();
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
