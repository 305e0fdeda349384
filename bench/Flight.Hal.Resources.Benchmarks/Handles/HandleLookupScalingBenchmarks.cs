using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>The lookup curve: one checked lookup (read the value, add it to a sum) with <see cref="Live"/> entries live —
/// 1,000, 10,000, 100,000, 1,000,000 — scattered over twice as many slots with varied generations
/// (<see cref="ChurnedTable"/>), visited in random order: <see cref="HandleTable{T}"/> against a bare generational array
/// (the baseline) and <c>Dictionary&lt;int,long&gt;</c> holding the same entries. Past the caches the curve is the memory
/// system's; the ratio shows whether the table's checks stay hidden behind the misses.</summary>
/// <remarks>Each invocation performs <see cref="Lookups"/> lookups, continuing through the random order where the last
/// invocation stopped (so at 1,000,000 live, successive invocations visit different entries); figures are per lookup.
/// Setup churns the table, so the 1,000,000 case takes a few seconds to prepare.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Handles, Categories.Scaling)]
public class HandleLookupScalingBenchmarks
{
    private const int Lookups = 16 * PerInvoke.Ops;

    private ChurnedTable _churned = null!;
    private HandleTable<long> _table = null!;
    private Handle<long>[] _handles = [];
    private LookupPeers _peers = null!;
    private int _bareCursor;
    private int _dictionaryCursor;
    private int _tableCursor;

    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int Live { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _churned = new ChurnedTable(Live, seed: 43);
        _table = _churned.Table;
        _handles = _churned.Live;
        _peers = new LookupPeers(_churned);
    }

    [GlobalCleanup]
    public void Cleanup() => _churned.Dispose();

    [Benchmark(Baseline = true, OperationsPerInvoke = Lookups)]
    public long BareGenerationalArray()
    {
        long sum = 0;
        LookupPeers.BareEntry[] entries = _peers.Bare;
        LookupPeers.BareHandle[] handles = _peers.BareHandles;
        int cursor = _bareCursor;
        for (int i = 0; i < Lookups; i++)
        {
            LookupPeers.BareHandle handle = handles[cursor];
            ref LookupPeers.BareEntry entry = ref entries[handle.Index];
            if (entry.Generation == handle.Generation)
            {
                sum += entry.Value;
            }

            if (++cursor == handles.Length)
            {
                cursor = 0;
            }
        }

        _bareCursor = cursor;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long DictionaryIntLong()
    {
        long sum = 0;
        Dictionary<int, long> dictionary = _peers.Dictionary;
        int[] keys = _peers.Keys;
        int cursor = _dictionaryCursor;
        for (int i = 0; i < Lookups; i++)
        {
            if (dictionary.TryGetValue(keys[cursor], out long value))
            {
                sum += value;
            }

            if (++cursor == keys.Length)
            {
                cursor = 0;
            }
        }

        _dictionaryCursor = cursor;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lookups)]
    public long HandleTable()
    {
        long sum = 0;
        HandleTable<long> table = _table;
        Handle<long>[] handles = _handles;
        int cursor = _tableCursor;
        for (int i = 0; i < Lookups; i++)
        {
            ref long value = ref table.GetValueRefOrNullRef(handles[cursor]);
            if (!Unsafe.IsNullRef(ref value))
            {
                sum += value;
            }

            if (++cursor == handles.Length)
            {
                cursor = 0;
            }
        }

        _tableCursor = cursor;
        return sum;
    }
}
