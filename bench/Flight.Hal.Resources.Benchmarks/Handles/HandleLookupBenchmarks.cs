using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;

namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>One checked lookup (read the value, add it to a sum) among 10,000 live entries scattered over 20,000 slots
/// with varied generations (<see cref="ChurnedTable"/>: eight rounds of freeing and reallocating a random half, so a
/// live slot has been reissued 0 to 8 times and carries any of nine generations), visited in random order: <see cref="HandleTable{T}"/> against a bare
/// generational array (the baseline: one bounds check, one generation compare, one load) and
/// <c>Dictionary&lt;int,long&gt;</c>; and the same through 4-byte <see cref="CompactHandle{T}"/>s of a compact table.</summary>
/// <remarks>Each invocation looks up every live entry once (<see cref="LiveCount"/> lookups); figures are per lookup.
/// <c>HandleLookupScalingBenchmarks</c> draws the curve from 1,000 to 1,000,000 live entries.</remarks>
[MemoryDiagnoser]
[BenchmarkCategory(Categories.Handles)]
public class HandleLookupBenchmarks
{
    private const int LiveCount = 10_000;

    private ChurnedTable _churned = null!;
    private HandleTable<long> _table = null!;
    private Handle<long>[] _handles = [];
    private LookupPeers _peers = null!;
    private ChurnedTable _compact = null!;
    private CompactHandle<long>[] _compactHandles = [];

    [GlobalSetup]
    public void Setup()
    {
        _compact = new ChurnedTable(LiveCount, seed: 42, compact: true);
        _compactHandles = _compact.LiveCompact;
        _churned = new ChurnedTable(LiveCount, seed: 42);
        _table = _churned.Table;
        _handles = _churned.Live;
        _peers = new LookupPeers(_churned);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _churned.Dispose();
        _compact.Dispose();
    }

    /// <summary>The same lookups through 4-byte compact handles of a compact table churned the same way.</summary>
    [Benchmark(OperationsPerInvoke = LiveCount)]
    public long HandleTableCompact()
    {
        long sum = 0;
        HandleTable<long> table = _compact.Table;
        foreach (CompactHandle<long> handle in _compactHandles)
        {
            ref long value = ref table.GetValueRefOrNullRef(handle);
            if (!Unsafe.IsNullRef(ref value))
            {
                sum += value;
            }
        }

        return sum;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = LiveCount)]
    public long BareGenerationalArray()
    {
        long sum = 0;
        LookupPeers.BareEntry[] entries = _peers.Bare;
        foreach (LookupPeers.BareHandle handle in _peers.BareHandles)
        {
            ref LookupPeers.BareEntry entry = ref entries[handle.Index];
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
        Dictionary<int, long> dictionary = _peers.Dictionary;
        foreach (int key in _peers.Keys)
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
}
