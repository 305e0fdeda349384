using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Two-level segregated fit: free blocks in lists by size class (a first level per power of two, 16 second-level classes
// within it), a bitmap over each level, and the operations that run under the lock on top of them — allocate (find,
// split), free (merge), resolve and statistics.
public sealed unsafe partial class Arena
{
    private const int SlLog2 = 4;            // 16 second-level classes per power of two
    private const int SlCount = 1 << SlLog2;

    private readonly int _flCount;           // First-level classes needed for the largest block.
    private readonly uint[] _slBitmaps;      // Per first-level class: bit sl set when list (fl, sl) is non-empty.
    private readonly int[] _heads;           // Free-list heads, [fl * SlCount + sl]; None when empty.
    private ulong _flBitmap;                 // Bit fl set when any list of first-level class fl is non-empty.
    private int _freeBlockCount;

    /// <summary>TLSF mapping: the (first, second) level class of a size given in units.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mapping(long units, out int fl, out int sl)
    {
        Debug.Assert(units > 0, "Blocks have at least one unit.");
        if (units < SlCount)
        {
            fl = 0;
            sl = (int)units;
        }
        else
        {
            int log2 = BitOperations.Log2((ulong)units);
            fl = log2 - SlLog2 + 1;
            sl = (int)((units >> (log2 - SlLog2)) - SlCount);
        }
    }

    private ResourceStatus AllocateCore(long size, int alignment, out ResourceHandle handle)
    {
        ThrowIfDisposed();
        handle = default;
        long unit = Unit;
        if (size > _end - _start)
        {
            _failedAllocations++;
            return ResourceStatus.RegionExhausted;
        }

        long need = ArenaConfig.RoundUp(size, unit);
        long align = Math.Max(alignment, unit);
        if (_handles.Count >= _handles.Capacity)
        {
            _failedAllocations++;
            return ResourceStatus.CapacityExceeded;
        }

        // Bookkeeping grows with use: the handle slot and the (up to two) block records this allocation may need are
        // committed first, so nothing below can fail half-way.
        if (!_handles.TryCommitNext() || !TryCommitRecords(2))
        {
            _failedAllocations++;
            return ResourceStatus.OutOfMemory;
        }

        int block = FindFree(need, align);
        if (block == None)
        {
            _failedAllocations++;
            if (_freeBytes >= need)
            {
                _fragmentationFailures++;
                return ResourceStatus.Fragmented;
            }

            return ResourceStatus.RegionExhausted;
        }

        RemoveFree(block);
        ref Record r = ref RecordAt(block);
        long aligned = ArenaConfig.RoundUp(r.Offset, align); // the region base is aligned to MaxAlignment >= align
        long gap = aligned - r.Offset;
        Debug.Assert(gap + need <= r.Size, "FindFree returned a block that cannot hold the request.");
        if (gap > 0)
        {
            // The alignment gap becomes a free block of its own: a whole number of units, since offsets and
            // alignments are multiples of the unit. Its left neighbour is in use (no two free blocks touch).
            int front = SplitFront(block, gap);
            InsertFree(front);
        }

        if (r.Size > need)
        {
            int back = SplitBack(block, need);
            InsertFree(back);
        }

        r.PrevFree = Used;
        r.NextFree = BitOperations.Log2((ulong)align); // a block in use: its alignment (log2) and, from bit 8, its pins
        _freeBytes -= r.Size;
        _usedBytes += r.Size;
        _peakUsedBytes = Math.Max(_peakUsedBytes, _usedBytes);
        _totalAllocations++;
        ResourceStatus status = _handles.TryAllocate(block, out Handle<int> issued);
        Debug.Assert(status == ResourceStatus.Ok, "Capacity was checked before the search.");
        handle = (ResourceHandle)issued;
        return ResourceStatus.Ok;
    }

    private ResourceStatus FreeCore(ResourceHandle handle)
    {
        ThrowIfDisposed();
        var typed = Handle<int>.FromRawValue(handle.RawValue);
        ref int entry = ref _handles.GetValueRefOrNullRef(typed); // throws for a foreign handle
        if (Unsafe.IsNullRef(ref entry))
        {
            return handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
        }

        int block = entry;
        _handles.Free(typed);
        ref Record r = ref RecordAt(block);
        Debug.Assert(r.PrevFree == Used, "A live handle's block must be in use.");
        _usedBytes -= r.Size;
        _freeBytes += r.Size;

        int previous = r.PrevPhys;
        if (previous != None && RecordAt(previous).PrevFree != Used)
        {
            RemoveFree(previous);
            MergeIntoPrevious(block);
            block = previous;
            r = ref RecordAt(block);
        }

        int next = r.NextPhys;
        if (next != None && RecordAt(next).PrevFree != Used)
        {
            RemoveFree(next);
            MergeIntoPrevious(next);
        }

        InsertFree(block);
        return ResourceStatus.Ok;
    }

    private ResourceStatus ResolveCore(ResourceHandle handle, out nint address, out long size)
    {
        ThrowIfDisposed();
        ref int entry = ref _handles.GetValueRefOrNullRef(Handle<int>.FromRawValue(handle.RawValue));
        if (Unsafe.IsNullRef(ref entry))
        {
            address = 0;
            size = 0;
            return handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
        }

        ref Record r = ref RecordAt(entry);
        address = (nint)(_base + r.Offset);
        size = r.Size;
        return ResourceStatus.Ok;
    }

    private ArenaStats StatsCore()
    {
        ThrowIfDisposed();
        long largest = 0;
        if (_flBitmap != 0)
        {
            int fl = 63 - BitOperations.LeadingZeroCount(_flBitmap);
            int sl = 31 - BitOperations.LeadingZeroCount(_slBitmaps[fl]);
            for (int b = _heads[(fl * SlCount) + sl]; b != None; b = RecordAt(b).NextFree)
            {
                largest = Math.Max(largest, RecordAt(b).Size);
            }
        }

        return new ArenaStats(
            Capacity: _capacity,
            ReservedBytes: _capacity - (_end - _start),
            UsedBytes: _usedBytes,
            FreeBytes: _freeBytes,
            PeakUsedBytes: _peakUsedBytes,
            LargestFreeBlock: largest,
            AllocationCount: _handles.Count,
            FreeBlockCount: _freeBlockCount,
            TotalAllocations: _totalAllocations,
            FailedAllocations: _failedAllocations,
            FragmentationFailures: _fragmentationFailures);
    }

    /// <summary>Finds a free block that can hold <paramref name="need"/> bytes at <paramref name="align"/>, or None.</summary>
    private int FindFree(long need, long align)
    {
        // Worst-case padding to reach the alignment; zero when the unit alignment suffices.
        long search = need + (align - Unit);
        long units = search >> _unitShift;

        // Good fit: round up to the next class boundary, so every block of the class found is big enough.
        long rounded = units;
        if (units >= SlCount)
        {
            rounded += (1L << (BitOperations.Log2((ulong)units) - SlLog2)) - 1;
        }

        Mapping(rounded, out int fl, out int sl);
        if (fl < _flCount)
        {
            uint slMap = _slBitmaps[fl] & (~0u << sl);
            if (slMap == 0)
            {
                ulong flMap = fl + 1 < 64 ? _flBitmap & (~0UL << (fl + 1)) : 0;
                if (flMap != 0)
                {
                    fl = BitOperations.TrailingZeroCount(flMap);
                    slMap = _slBitmaps[fl];
                }
            }

            if (slMap != 0)
            {
                return _heads[(fl * SlCount) + BitOperations.TrailingZeroCount(slMap)];
            }
        }

        // Nothing at or above the rounded class. Blocks in the classes from the exact size up to the rounded one
        // may still fit (and with less padding than the worst case): look at each before refusing.
        Mapping(need >> _unitShift, out int lowFl, out int lowSl);
        int last = Math.Min((fl * SlCount) + sl, _heads.Length - 1);
        for (int list = (lowFl * SlCount) + lowSl; list <= last; list++)
        {
            for (int b = _heads[list]; b != None; b = RecordAt(b).NextFree)
            {
                ref Record r = ref RecordAt(b);
                if (ArenaConfig.RoundUp(r.Offset, align) - r.Offset + need <= r.Size)
                {
                    return b;
                }
            }
        }

        return None;
    }

    private void InsertFree(int block)
    {
        ref Record r = ref RecordAt(block);
        Mapping(r.Size >> _unitShift, out int fl, out int sl);
        int list = (fl * SlCount) + sl;
        int head = _heads[list];
        r.PrevFree = None;
        r.NextFree = head;
        if (head != None)
        {
            RecordAt(head).PrevFree = block;
        }

        _heads[list] = block;
        _slBitmaps[fl] |= 1u << sl;
        _flBitmap |= 1UL << fl;
        _freeBlockCount++;
    }

    private void RemoveFree(int block)
    {
        ref Record r = ref RecordAt(block);
        Debug.Assert(r.PrevFree != Used && r.PrevFree != Unused, "Only free blocks are on the free lists.");
        Mapping(r.Size >> _unitShift, out int fl, out int sl);
        int list = (fl * SlCount) + sl;
        if (r.PrevFree != None)
        {
            RecordAt(r.PrevFree).NextFree = r.NextFree;
        }
        else
        {
            _heads[list] = r.NextFree;
        }

        if (r.NextFree != None)
        {
            RecordAt(r.NextFree).PrevFree = r.PrevFree;
        }

        if (_heads[list] == None)
        {
            _slBitmaps[fl] &= ~(1u << sl);
            if (_slBitmaps[fl] == 0)
            {
                _flBitmap &= ~(1UL << fl);
            }
        }

        r.PrevFree = Used; // off the lists; the caller marks it in use or releases it
        r.NextFree = Used;
        _freeBlockCount--;
    }
}
