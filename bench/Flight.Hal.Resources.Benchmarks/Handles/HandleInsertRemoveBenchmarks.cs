using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>Inserting one entry (with a value) and removing it while 1,000 others are live, the key or handle added to a
/// sum: <see cref="HandleTable{T}"/> against a bare generational array with a free-index stack (the baseline: the
/// strongest peer, a slot map written straight without the table's checks) and <c>Dictionary&lt;int,long&gt;</c> with
/// keys from a counter (the usual registry).</summary>
/// <remarks>Each invocation loops <see cref="PerInvoke.Ops"/> insert + remove pairs; figures are per pair.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Handles)]
public class HandleInsertRemoveBenchmarks
{
    private const int Live = 1_000;
    private const int Slots = Live + 16;

    private HandleTable<long> _table = null!;
    private Dictionary<int, long> _dictionary = null!;
    private int _nextKey;
    private uint[] _bareGenerations = [];
    private long[] _bareValues = [];
    private int[] _bareFree = [];
    private int _bareFreeCount;

    [GlobalSetup]
    public void Setup()
    {
        _table = new HandleTable<long>(Slots);
        _dictionary = new Dictionary<int, long>(Slots);
        _bareGenerations = new uint[Slots];
        _bareValues = new long[Slots];
        _bareFree = new int[Slots];
        for (int i = 0; i < Live; i++)
        {
            _table.Allocate(i);
            _dictionary.Add(i, i);
            _bareGenerations[i] = 1;
            _bareValues[i] = i;
        }

        for (int i = Slots - 1; i >= Live; i--)
        {
            _bareFree[_bareFreeCount++] = i;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _table.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = PerInvoke.Ops)]
    public long BareGenerationalArray()
    {
        long sum = 0;
        uint[] generations = _bareGenerations;
        long[] values = _bareValues;
        int[] free = _bareFree;
        int freeCount = _bareFreeCount;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            // Insert: pop a free index, make its generation odd (live), store the value.
            int index = free[--freeCount];
            uint generation = ++generations[index];
            values[index] = i;
            sum += index + generation;

            // Remove: check the handle's generation, make it even (free), push the index.
            if (generations[index] == generation)
            {
                generations[index] = generation + 1;
                free[freeCount++] = index;
            }
        }

        _bareFreeCount = freeCount;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long DictionaryAddRemove()
    {
        long sum = 0;
        Dictionary<int, long> dictionary = _dictionary;
        int next = _nextKey;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            // Keys cycle above the live ones: a plain counter wraps after 2^32 calls and would collide with a live key.
            int key = Live + (next++ & 0xFFFF);
            dictionary.Add(key, i);
            sum += key;
            dictionary.Remove(key);
        }

        _nextKey = next;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = PerInvoke.Ops)]
    public long HandleTable()
    {
        long sum = 0;
        HandleTable<long> table = _table;
        for (int i = 0; i < PerInvoke.Ops; i++)
        {
            table.TryAllocate(i, out Handle<long> handle);
            sum += (long)handle.RawValue;
            table.Free(handle);
        }

        return sum;
    }
}
