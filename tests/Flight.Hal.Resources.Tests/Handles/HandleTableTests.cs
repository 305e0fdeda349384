using System.Runtime.CompilerServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Handles;

public class HandleTableTests
{
    private struct Transform
    {
        public float X;
        public float Y;
        public float Z;
    }

    [Fact]
    public void Allocate_ThenGet_ReturnsTheValue()
    {
        // Arrange
        using var table = new HandleTable<Transform>(capacity: 4);

        // Act
        Handle<Transform> handle = table.Allocate(new Transform { X = 1, Y = 2, Z = 3 });

        // Assert
        Assert.Equal(2f, table.Get(handle).Y);
        Assert.Equal(1, table.Count);
        Assert.True(table.Contains(handle));
    }

    [Fact]
    public void Get_ReturnsWritableReference()
    {
        using var table = new HandleTable<Transform>(4);
        Handle<Transform> handle = table.Allocate();

        table.Get(handle).X = 42;

        Assert.Equal(ResourceStatus.Ok, table.TryGet(handle, out Transform value));
        Assert.Equal(42f, value.X);
    }

    [Fact]
    public void Free_SameHandleTwice_ReturnsStaleHandle()
    {
        // Arrange
        using var table = new HandleTable<Transform>(capacity: 4);
        Handle<Transform> handle = table.Allocate();
        table.Free(handle);

        // Act
        ResourceStatus status = table.Free(handle);

        // Assert
        Assert.Equal(ResourceStatus.StaleHandle, status);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void StaleHandle_AfterSlotReuse_IsDetectedAndTouchesNothing()
    {
        // Arrange
        using var table = new HandleTable<long>(capacity: 1);
        Handle<long> old = table.Allocate(1);
        table.Free(old);
        Handle<long> current = table.Allocate(2);

        // Act
        ref long viaOld = ref table.GetValueRefOrNullRef(old);
        ResourceStatus freeOld = table.Free(old);
        ResourceStatus getOld = table.TryGet(old, out long oldValue);

        // Assert
        Assert.Equal(old.Index, current.Index);
        Assert.True(Unsafe.IsNullRef(ref viaOld));
        Assert.Equal(ResourceStatus.StaleHandle, freeOld);
        Assert.Equal(ResourceStatus.StaleHandle, getOld);
        Assert.Equal(0, oldValue);
        Assert.False(table.Contains(old));
        Assert.Equal(2, table.Get(current));
        Assert.Equal(1, table.Count);
        var ex = Assert.Throws<ResourceException>(() => table.Get(old));
        Assert.Equal(ResourceStatus.StaleHandle, ex.Status);
    }

    [Fact]
    public void DefaultHandle_IsRejectedWithInvalidHandle()
    {
        using var table = new HandleTable<long>(4);
        table.Allocate(5);

        Assert.Equal(ResourceStatus.InvalidHandle, table.Free(default(Handle<long>)));
        Assert.Equal(ResourceStatus.InvalidHandle, table.TryGet(default(Handle<long>), out _));
        Assert.True(Unsafe.IsNullRef(ref table.GetValueRefOrNullRef(default(Handle<long>))));
        Assert.False(table.Contains(default(Handle<long>)));
        Assert.Equal(ResourceStatus.InvalidHandle, Assert.Throws<ResourceException>(() => table.Get(default(Handle<long>))).Status);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void ForeignHandle_IsRejectedNotMisread()
    {
        // Arrange: a handle with the same slot and generation as one of ours, from another table (only the issuer
        // differs). Tables start at different generations (above their tags' earlier issuers'), so it is built by hand.
        using var mine = new HandleTable<long>(4);
        using var other = new HandleTable<long>(4);
        Handle<long> ownHandle = mine.Allocate(1);
        other.Allocate(2);
        var foreign = Handle<long>.FromRawValue((ownHandle.RawValue & ~(ulong)HandleLayout.TagMask) | (uint)other.Tag);
        Assert.Equal(ownHandle.Index, foreign.Index);
        Assert.Equal(ownHandle.Generation, foreign.Generation);

        // Act + Assert
        Assert.Throws<ArgumentException>(() => mine.Free(foreign));
        Assert.Throws<ArgumentException>(() => mine.TryGet(foreign, out _));
        Assert.Throws<ArgumentException>(() => mine.GetValueRefOrNullRef(foreign));
        Assert.False(mine.Contains(foreign));
        Assert.Equal(1, mine.Get(ownHandle));
        Assert.Equal(1, mine.Count);
    }

    [Fact]
    public void Allocate_BeyondCapacity_ReturnsCapacityExceeded_UntilOneIsFreed()
    {
        // Arrange
        using var table = new HandleTable<int>(capacity: 3);
        Handle<int>[] handles = [table.Allocate(), table.Allocate(), table.Allocate()];

        // Act
        ResourceStatus full = table.TryAllocate(out Handle<int> none);
        table.Free(handles[1]);
        ResourceStatus afterFree = table.TryAllocate(out Handle<int> reused);

        // Assert
        Assert.Equal(ResourceStatus.CapacityExceeded, full);
        Assert.True(none.IsNull);
        Assert.Equal(ResourceStatus.Ok, afterFree);
        Assert.Equal(handles[1].Index, reused.Index);
        Assert.Equal(ResourceStatus.CapacityExceeded,
            Assert.Throws<ResourceException>(() => table.Allocate()).Status);
    }

    [Fact]
    public void Free_AtGenerationWrapPoint_RetiresTheSlotForever()
    {
        // Arrange: drive slot 0 to the last odd generation.
        using var table = new HandleTable<int>(capacity: 2);
        Handle<int> atWrap = table.SetGenerationForTesting(table.Allocate(9), uint.MaxValue);
        Assert.Equal(uint.MaxValue, atWrap.Generation);

        // Act
        ResourceStatus freed = table.Free(atWrap);
        Handle<int> next = table.Allocate();
        ResourceStatus afterRetire = table.TryAllocate(out _);

        // Assert
        Assert.Equal(ResourceStatus.Ok, freed);
        Assert.Equal(1, table.RetiredCount);
        Assert.Equal(1, next.Index);                              // slot 0 is never handed out again
        Assert.Equal(ResourceStatus.CapacityExceeded, afterRetire); // usable capacity shrank by one
        Assert.Equal(ResourceStatus.StaleHandle, table.Free(atWrap));
        Assert.False(table.Contains(atWrap));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void NullHandle_WhenSlotZeroIsRetired_IsStillInvalid()
    {
        // Arrange: retire slot 0, whose key then reads 0 — the null handle's bits.
        using var table = new HandleTable<long>(capacity: 2);
        table.Free(table.SetGenerationForTesting(table.Allocate(1), uint.MaxValue));
        Assert.Equal(1, table.RetiredCount);

        // Act + Assert
        Assert.Equal(ResourceStatus.InvalidHandle, table.Free(default(Handle<long>)));
        Assert.False(table.Contains(default(Handle<long>)));
        Assert.True(Unsafe.IsNullRef(ref table.GetValueRefOrNullRef(default(Handle<long>))));
        Assert.Equal(0, table.Count);
        Assert.Equal(1, table.RetiredCount);
    }

    [Fact]
    public void ForgedValue_EqualToAFreeSlotsKey_IsRejected_AndTheFreeListSurvives()
    {
        // Arrange: slot 0 is free; its key is (generation 2, next free -1 + 1 = 0, tag 0).
        using var table = new HandleTable<long>(capacity: 2);
        table.Free(table.Allocate(1));
        Handle<long> forged = Handle<long>.FromRawValue(2UL << 32);

        // Act + Assert
        Assert.Throws<ArgumentException>(() => table.Free(forged));
        Assert.Throws<ArgumentException>(() => table.GetValueRefOrNullRef(forged));
        Assert.False(table.Contains(forged));
        Assert.Equal(0, table.Count);
        Handle<long> a = table.Allocate(10);
        Handle<long> b = table.Allocate(20);
        Assert.Equal(ResourceStatus.CapacityExceeded, table.TryAllocate(out _));
        Assert.Equal(10, table.Get(a));
        Assert.Equal(20, table.Get(b));
    }

    [Fact]
    public void Enumerator_VisitsExactlyTheLiveEntries()
    {
        // Arrange
        using var table = new HandleTable<int>(16);
        var live = new Dictionary<Handle<int>, int>();
        for (int i = 0; i < 10; i++)
        {
            live[table.Allocate(i * 10)] = i * 10;
        }

        foreach (Handle<int> handle in live.Keys.Where(h => h.Index % 3 == 0).ToList())
        {
            table.Free(handle);
            live.Remove(handle);
        }

        // Act
        var seen = new Dictionary<Handle<int>, int>();
        foreach (HandleTable<int>.Entry entry in table)
        {
            seen.Add(entry.Handle, entry.Value);
            entry.Value++;
        }

        // Assert
        Assert.Equal(live.OrderBy(p => p.Key.Index), seen.OrderBy(p => p.Key.Index));
        foreach ((Handle<int> handle, int value) in live)
        {
            Assert.Equal(value + 1, table.Get(handle));
        }
    }

    [Fact]
    public void Enumerator_FreeingCurrentEntry_IsAllowed()
    {
        using var table = new HandleTable<int>(8);
        for (int i = 0; i < 8; i++)
        {
            table.Allocate(i);
        }

        int visited = 0;
        foreach (HandleTable<int>.Entry entry in table)
        {
            Assert.Equal(ResourceStatus.Ok, table.Free(entry.Handle));
            visited++;
        }

        Assert.Equal(8, visited);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Clear_MakesEveryHandleStale()
    {
        using var table = new HandleTable<int>(8);
        Handle<int> a = table.Allocate(1);
        Handle<int> b = table.Allocate(2);

        table.Clear();

        Assert.Equal(0, table.Count);
        Assert.False(table.Contains(a));
        Assert.Equal(ResourceStatus.StaleHandle, table.Free(b));
        Assert.Equal(ResourceStatus.Ok, table.TryAllocate(out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(HandleTable<int>.MaxCapacity + 1)]
    public void Constructor_CapacityOutOfRange_Throws(int capacity)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandleTable<int>(capacity));
    }

    [Fact]
    public void Constructor_AllocationFails_ThrowsAndLeaksNothing()
    {
        var allocator = new TrackingAllocator { FailAll = true };

        Assert.Throws<OutOfMemoryException>(() => new HandleTable<long>(1024, allocator));

        Assert.Equal(0, allocator.LiveBytes);
        Assert.Equal(1, allocator.FailedAllocations);
    }

    [Fact]
    public void Dispose_ReturnsEveryNativeByte_AndIsIdempotent()
    {
        // Arrange
        var allocator = new TrackingAllocator();
        var table = new HandleTable<Transform>(1000, allocator);
        for (int i = 0; i < 500; i++)
        {
            table.Allocate();
        }

        Assert.True(allocator.LiveBytes >= 500 * HandleTable<Transform>.BytesPerSlot); // the pages in use, at least
        Assert.Equal(allocator.LiveBytes, table.NativeBytes);

        // Act
        table.Dispose();
        table.Dispose();

        // Assert
        Assert.Equal(0, allocator.LiveBytes);
        Assert.Equal(0, allocator.LiveAllocations);
        Assert.True(table.IsDisposed);
        Assert.Equal(0, table.NativeBytes);
    }

    [Fact]
    public void Finalizer_OfAnAbandonedTable_ReturnsItsNativeMemory()
    {
        var allocator = new TrackingAllocator();
        Abandon(allocator);
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandleTable<int>(0, allocator));

        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.Equal(0, allocator.LiveBytes);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void Abandon(NativeAllocator allocator)
        {
            var table = new HandleTable<long>(128, allocator);
            table.Allocate(1);
            Assert.True(allocator.LiveBytes > 0);
        }
    }

    [Fact]
    public void UseAfterDispose_ThrowsObjectDisposed()
    {
        var table = new HandleTable<int>(4);
        Handle<int> handle = table.Allocate();
        table.Dispose();

        Assert.Throws<ObjectDisposedException>(() => table.TryAllocate(out _));
        Assert.Throws<ObjectDisposedException>(() => table.Free(handle));
        Assert.Throws<ObjectDisposedException>(() => table.GetValueRefOrNullRef(handle));
        Assert.Throws<ObjectDisposedException>(() => table.Contains(handle));
        Assert.Throws<ObjectDisposedException>(() => table.GetEnumerator());
    }

    [Fact]
    public void SteadyState_AllocateLookupFree_AllocatesNothingOnTheGcHeap()
    {
        using var table = new HandleTable<Transform>(64);

        long bytes = Allocations.Measure(() =>
        {
            Handle<Transform> handle = table.Allocate(new Transform { X = 1 });
            table.Get(handle).Y = 2;
            _ = table.GetValueRefOrNullRef(handle).X;
            foreach (HandleTable<Transform>.Entry entry in table)
            {
                entry.Value.Z = 3;
            }

            table.Free(handle);
        });

        Assert.Equal(0, bytes);
    }

    [Fact]
    public void RandomOperations_MatchASimpleModel()
    {
        // A fixed-seed walk of allocate/free/lookup against a dictionary; stale handles are kept and probed too.
        var random = new Random(20261121);
        using var table = new HandleTable<long>(256);
        var model = new Dictionary<Handle<long>, long>();
        var dead = new List<Handle<long>>();

        for (int step = 0; step < 50_000; step++)
        {
            int action = random.Next(10);
            if (action < 5)
            {
                long value = random.NextInt64();
                ResourceStatus status = table.TryAllocate(value, out Handle<long> handle);
                if (model.Count == table.Capacity)
                {
                    Assert.Equal(ResourceStatus.CapacityExceeded, status);
                }
                else
                {
                    Assert.Equal(ResourceStatus.Ok, status);
                    Assert.False(model.ContainsKey(handle));
                    model.Add(handle, value);
                }
            }
            else if (action < 9 && model.Count > 0)
            {
                Handle<long> victim = model.Keys.ElementAt(random.Next(model.Count));
                Assert.Equal(ResourceStatus.Ok, table.Free(victim));
                model.Remove(victim);
                dead.Add(victim);
            }
            else if (dead.Count > 0)
            {
                Handle<long> stale = dead[random.Next(dead.Count)];
                Assert.Equal(ResourceStatus.StaleHandle, table.Free(stale));
                Assert.True(Unsafe.IsNullRef(ref table.GetValueRefOrNullRef(stale)));
            }

            Assert.Equal(model.Count, table.Count);
        }

        foreach ((Handle<long> handle, long value) in model)
        {
            Assert.Equal(value, table.Get(handle));
        }
    }
}
