using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>Looking up 10,000 live entries in random order: the handle table against a bare generational array
/// (the floor: one compare and one load) and <c>Dictionary&lt;int,long&gt;</c> (what engine code writes otherwise).</summary>
/// <remarks>Each invocation performs <see cref="LiveCount"/> lookups; the figures are per lookup.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Handles)]
public class HandleLookupBenchmarks
{
    private const int LiveCount = 10_000;

    private HandleTable<long> _table = null!;
    private Handle<long>[] _handles = null!;        // table handles, in random order
    private BareEntry[] _bare = null!;              // the bare generational array
    private BareHandle[] _bareHandles = null!;      // its handles, same random order
    private Dictionary<int, long> _dictionary = null!;
    private int[] _keys = null!;                    // dictionary keys, same random order

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _table = new HandleTable<long>(LiveCount * 2);
        _bare = new BareEntry[LiveCount * 2];
        _dictionary = new Dictionary<int, long>(LiveCount * 2);

        // Churn first so slots have mixed generations and the live set is scattered, as in a running game.
        var all = new List<Handle<long>>();
        for (int i = 0; i < LiveCount * 2; i++)
        {
            all.Add(_table.Allocate(i));
        }

        foreach (Handle<long> handle in all.Where((_, i) => i % 2 == 1))
        {
            _table.Free(handle);
        }

        var live = new List<Handle<long>>();
        foreach (HandleTable<long>.Entry entry in _table)
        {
            live.Add(entry.Handle);
        }

        _handles = live.OrderBy(_ => random.Next()).ToArray();
        _bareHandles = new BareHandle[LiveCount];
        _keys = new int[LiveCount];
        for (int i = 0; i < _handles.Length; i++)
        {
            int slot = _handles[i].Index;
            uint generation = _handles[i].Generation;
            _bare[slot] = new BareEntry { Generation = generation, Value = slot };
            _bareHandles[i] = new BareHandle { Index = slot, Generation = generation };
            _dictionary[slot] = slot;
            _keys[i] = slot;
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _table.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = LiveCount)]
    public long BareGenerationalArray()
    {
        long sum = 0;
        BareEntry[] entries = _bare;
        foreach (BareHandle handle in _bareHandles)
        {
            ref BareEntry entry = ref entries[handle.Index];
            if (entry.Generation == handle.Generation)
            {
                sum += entry.Value;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = LiveCount)]
    public long DictionaryIntLong()
    {
        long sum = 0;
        Dictionary<int, long> dictionary = _dictionary;
        foreach (int key in _keys)
        {
            if (dictionary.TryGetValue(key, out long value))
            {
                sum += value;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = LiveCount)]
    public long HandleTable()
    {
        long sum = 0;
        HandleTable<long> table = _table;
        foreach (Handle<long> handle in _handles)
        {
            ref long value = ref table.GetValueRefOrNullRef(handle);
            if (!Unsafe.IsNullRef(ref value))
            {
                sum += value;
            }
        }

        return sum;
    }

    private struct BareEntry
    {
        public uint Generation;
        public long Value;
    }

    private struct BareHandle
    {
        public int Index;
        public uint Generation;
    }
}
