using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Handles;

/// <summary>Compact (4-byte) handles of a compact <see cref="HandleTable{T}"/>: the same entries and checks as the
/// 8-byte form, a key that never repeats (a slot retires after its 2,048th entry), and the capacity that costs.</summary>
[Collection(ProcessWideState.Name)] // one test watches the process's retired handle tags
public class CompactHandleTests
{
    [Fact]
    public void CompactHandles_NameTheSameEntries_AndGoStaleWhenFreed()
    {
        using var table = new HandleTable<long>(16, allocator: null, compact: true);
        Assert.True(table.IsCompact);
        Assert.Equal(ResourceStatus.Ok, table.TryAllocate(41, out CompactHandle<long> handle));
        Assert.Equal(4, System.Runtime.CompilerServices.Unsafe.SizeOf<CompactHandle<long>>());
        Assert.Equal(1u, handle.Generation);

        table.Get(handle)++;
        Assert.Equal(42, table.Get(table.ToHandle(handle)));
        Assert.Equal(handle, table.ToCompact(table.ToHandle(handle)));
        Assert.True(table.Contains(handle));
        Assert.Equal(ResourceStatus.Ok, table.TryGet(handle, out long value));
        Assert.Equal(42, value);

        Assert.Equal(ResourceStatus.Ok, table.Free(handle));
        Assert.Equal(ResourceStatus.StaleHandle, table.Free(handle));
        Assert.False(table.Contains(handle));
        Assert.Equal(ResourceStatus.StaleHandle, table.TryGet(handle, out _));
        Assert.True(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref table.GetValueRefOrNullRef(handle)));
        Assert.Equal(ResourceStatus.StaleHandle, Assert.Throws<ResourceException>(() => table.Get(handle)).Status);

        // The slot's next entry: same index, the next generation; the old compact handle still stale.
        Assert.Equal(ResourceStatus.Ok, table.TryAllocate(7, out CompactHandle<long> next));
        Assert.Equal((handle.Index, 3u), (next.Index, next.Generation));
        Assert.False(table.Contains(handle));
        Assert.Equal(7, table.Get(next));
        Assert.Equal(ResourceStatus.InvalidHandle, table.Free(default(CompactHandle<long>)));
        Assert.Equal(default, table.ToCompact(default));
        Assert.Equal(CompactHandle<long>.FromRawValue(next.RawValue), next);
    }

    [Fact]
    public void ASlot_RetiresAfterIts2048thEntry_SoNoKeyEverRepeats()
    {
        using var table = new HandleTable<int>(4, allocator: null, compact: true);
        var seen = new HashSet<uint>();
        CompactHandle<int> first = default;
        for (int i = 0; i < 2048; i++)
        {
            Assert.Equal(ResourceStatus.Ok, table.TryAllocate(i, out CompactHandle<int> handle));
            Assert.Equal(0, handle.Index);                  // the most recently freed slot first: always slot 0
            Assert.True(seen.Add(handle.RawValue), "a compact key repeated");
            first = i == 0 ? handle : first;
            Assert.Equal(ResourceStatus.Ok, table.Free(handle));
        }

        Assert.Equal(1, table.RetiredCount);                // freed at generation 4,095: retired
        Assert.Equal(ResourceStatus.Ok, table.TryAllocate(0, out CompactHandle<int> after));
        Assert.Equal((1, 1u), (after.Index, after.Generation)); // a fresh slot
        Assert.False(table.Contains(first));
        Assert.Equal(ResourceStatus.StaleHandle, table.Free(first));
        Assert.Equal(CompactHandle<int>.MaxGeneration, (int)seen.Max(raw => CompactHandle<int>.FromRawValue(raw).Generation));
    }

    [Fact]
    public void Capacity_ErodesByOneSlotPer2048Entries()
    {
        using var table = new HandleTable<int>(2, allocator: null, compact: true);
        int allocated = 0;
        while (table.TryAllocate(0, out CompactHandle<int> handle) == ResourceStatus.Ok)
        {
            allocated++;
            table.Free(handle);
        }

        Assert.Equal(2 * 2048, allocated);
        Assert.Equal(2, table.RetiredCount);
        Assert.Equal(ResourceStatus.CapacityExceeded, table.TryAllocate(0, out CompactHandle<int> _));
    }

    [Fact]
    public void AWideHandleOfARetiredSlot_StaysStale_AndARetiredCompactTableDoesNotRetireItsTag()
    {
        int retiredTags = HandleTagAllocator.RetiredCount;
        var table = new HandleTable<int>(1, allocator: null, compact: true);
        Handle<int> wideFirst = default;
        for (int i = 0; i < 2048; i++)
        {
            table.TryAllocate(i, out Handle<int> wide);
            wideFirst = i == 0 ? wide : wideFirst;
            table.Free(wide);
        }

        Assert.Equal(ResourceStatus.StaleHandle, table.Check(wideFirst));
        Assert.Equal(ResourceStatus.StaleHandle, table.Free(wideFirst));
        table.Dispose();
        Assert.Equal(retiredTags, HandleTagAllocator.RetiredCount); // the tag is reusable: later tables start above it
    }

    [Fact]
    public void CompactMembers_OfAWideTable_AndBadInput_AreRefusedClearly()
    {
        using var wide = new HandleTable<int>(4);
        Assert.False(wide.IsCompact);
        Assert.Throws<InvalidOperationException>(() => wide.TryAllocate(1, out CompactHandle<int> _));
        Assert.Throws<InvalidOperationException>(() => wide.Free(CompactHandle<int>.FromRawValue(1u << 20)));
        Assert.Throws<InvalidOperationException>(() => wide.ToCompact(wide.Allocate(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandleTable<int>(CompactHandle<int>.MaxCapacity + 1, null, compact: true));
        using var big = new HandleTable<int>(CompactHandle<int>.MaxCapacity, null, compact: true);

        using var compact = new HandleTable<int>(4, null, compact: true);
        Assert.Throws<ArgumentException>(() => compact.ToCompact(wide.Allocate(2)));   // another table's 8-byte handle
        // A forged compact handle: a slot never used, or a generation never issued, names nothing.
        Assert.False(compact.Contains(CompactHandle<int>.FromRawValue((5u << 20) | 3)));
        compact.Allocate(9);
        Assert.False(compact.Contains(CompactHandle<int>.FromRawValue((7u << 20) | 0)));
        Assert.False(compact.Contains(CompactHandle<int>.FromRawValue((2u << 20) | 0)));  // even: never live
        Assert.Equal(1, compact.Count);
    }

    /// <summary>Random allocations and frees through compact handles, checked step by step against a dictionary, with
    /// every freed handle kept and checked stale ever after.</summary>
    [Fact]
    public void RandomOperations_MatchAModel()
    {
        const int Capacity = 8; // small, so that the run wears every slot out
        using var table = new HandleTable<long>(Capacity, null, compact: true);
        var random = new Random(99);
        var live = new Dictionary<uint, long>();
        var dead = new List<CompactHandle<long>>();
        var everIssued = new HashSet<uint>();
        bool full = false;
        for (int step = 0; step < 100_000 && !full; step++)
        {
            if (live.Count > 0 && (random.Next(2) == 0 || live.Count == Capacity - table.RetiredCount))
            {
                uint raw = live.Keys.ElementAt(random.Next(live.Count));
                var handle = CompactHandle<long>.FromRawValue(raw);
                Assert.Equal(live[raw], table.Get(handle));
                Assert.Equal(ResourceStatus.Ok, table.Free(handle));
                live.Remove(raw);
                dead.Add(handle);
            }
            else
            {
                ResourceStatus status = table.TryAllocate(step, out CompactHandle<long> handle);
                if (status == ResourceStatus.CapacityExceeded)
                {
                    Assert.Equal(Capacity, table.RetiredCount); // every slot worn out, none live
                    Assert.Empty(live);
                    full = true;
                    continue;
                }

                Assert.Equal(ResourceStatus.Ok, status);
                Assert.True(live.TryAdd(handle.RawValue, step), "a live key was issued twice");
                Assert.True(everIssued.Add(handle.RawValue), "a compact key repeated");
            }

            if (step % 997 == 0)
            {
                Assert.All(dead.TakeLast(50), h => Assert.False(table.Contains(h)));
                Assert.Equal(live.Count, table.Count);
            }
        }

        Assert.True(full, "the run wore every slot out");
        Assert.Equal(Capacity * 2048, everIssued.Count);
        Assert.All(dead, h => Assert.False(table.Contains(h)));
    }
}
