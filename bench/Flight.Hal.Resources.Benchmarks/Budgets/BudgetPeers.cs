namespace Flight.Hal.Resources.Benchmarks.Budgets;

/// <summary>The C++ design's ResourceBudgetManager written straight: one lock around a map of usage per type, with the
/// limit checked on reserve.</summary>
public sealed class LockedBudgets
{
    private readonly object _lock = new();
    private readonly Dictionary<ResourceType, long> _used = [];
    private readonly long _max;

    public LockedBudgets(int types, long max)
    {
        _max = max;
        for (int i = 0; i < types; i++)
        {
            _used[(ResourceType)i] = 0;
        }
    }

    public bool TryReserve(ResourceType type, long bytes)
    {
        lock (_lock)
        {
            long used = _used[type];
            if (used + bytes > _max)
            {
                return false;
            }

            _used[type] = used + bytes;
            return true;
        }
    }

    public void Release(ResourceType type, long bytes)
    {
        lock (_lock)
        {
            _used[type] -= bytes;
        }
    }
}

/// <summary>The strongest peer: a lock-free budget in two atomic operations per reserve + release — add, and undo the add
/// if it went over the limit — one counter per type on its own cache line. It keeps no peak, counts, pressure or
/// callbacks, and a refused reserve briefly shows usage above the limit.</summary>
public sealed class InterlockedBudgets
{
    private const int Stride = 16; // longs: 128 bytes between types, so no two types share a cache line

    private readonly long[] _used;
    private readonly long _max;

    public InterlockedBudgets(int types, long max)
    {
        _used = new long[types * Stride];
        _max = max;
    }

    public bool TryReserve(ResourceType type, long bytes)
    {
        ref long used = ref _used[(int)type * Stride];
        if (Interlocked.Add(ref used, bytes) <= _max)
        {
            return true;
        }

        Interlocked.Add(ref used, -bytes);
        return false;
    }

    public void Release(ResourceType type, long bytes) => Interlocked.Add(ref _used[(int)type * Stride], -bytes);
}
