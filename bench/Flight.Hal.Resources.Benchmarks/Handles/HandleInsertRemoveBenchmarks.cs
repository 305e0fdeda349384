using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>Inserting and removing one entry while 1,000 others are live: the handle table against
/// <c>Dictionary&lt;int,long&gt;</c> with a counter for keys (the usual registry) and a bare generational array with
/// a free-list stack (the floor).</summary>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Handles)]
public class HandleInsertRemoveBenchmarks
{
    private const int Live = 1_000;

    private HandleTable<long> _table = null!;
    private Dictionary<int, long> _dictionary = null!;
    private int _nextKey;
    private uint[] _bareGenerations = null!;
    private long[] _bareValues = null!;
    private int[] _bareFree = null!;
    private int _bareFreeCount;

    [GlobalSetup]
    public void Setup()
    {
        _table = new HandleTable<long>(Live + 16);
        _dictionary = new Dictionary<int, long>(Live + 16);
        for (int i = 0; i < Live; i++)
        {
            _table.Allocate(i);
            _dictionary.Add(i, i);
        }

        _bareGenerations = new uint[Live + 16];
        _bareValues = new long[Live + 16];
        _bareFree = new int[Live + 16];
        for (int i = Live + 15; i >= Live; i--)
        {
            _bareFree[_bareFreeCount++] = i;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _table.Dispose();

    [Benchmark(Baseline = true)]
    public bool DictionaryAddRemove()
    {
        // Keys cycle above the live ones: a plain counter wraps after 2^32 calls and would collide with a live key.
        int key = Live + (_nextKey++ & 0xFFFF);
        _dictionary.Add(key, key);
        return _dictionary.Remove(key);
    }

    [Benchmark]
    public int BareGenerationalArray()
    {
        int index = _bareFree[--_bareFreeCount];
        uint generation = ++_bareGenerations[index];
        _bareValues[index] = 1;
        if (_bareGenerations[index] == generation)
        {
            _bareGenerations[index]++;
            _bareFree[_bareFreeCount++] = index;
        }

        return index;
    }

    [Benchmark]
    public ResourceStatus HandleTable()
    {
        _table.TryAllocate(1, out Handle<long> handle);
        return _table.Free(handle);
    }
}
