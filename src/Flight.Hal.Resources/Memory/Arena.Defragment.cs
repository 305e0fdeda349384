using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Defragmentation through handles: blocks in use slide toward the region's start, into the free block before them, so
// that the free space gathers into one block. Callers hold handles, not addresses: a handle stays valid (its record keeps
// its index; only the offset changes). Pinned blocks never move.
public sealed unsafe partial class Arena
{
    private const int PinShift = 8;
    private const int AlignmentMask = (1 << PinShift) - 1;
    private const int MaxPins = int.MaxValue >> PinShift;

    /// <summary>Pins an allocation: <see cref="Defragment"/> never moves it until it is unpinned as often (a GPU or DMA
    /// transfer is reading its address). Pins nest.</summary>
    /// <param name="handle">A live allocation.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> is another arena's.</exception>
    /// <exception cref="InvalidOperationException">The allocation is pinned 8,388,607 times already.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public ResourceStatus Pin(ResourceHandle handle) => ChangePins(handle, +1);

    /// <summary>Undoes one <see cref="Pin"/>.</summary>
    /// <param name="handle">A live allocation.</param>
    /// <returns>As <see cref="Pin"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> is another arena's.</exception>
    /// <exception cref="InvalidOperationException">The allocation is not pinned.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public ResourceStatus Unpin(ResourceHandle handle) => ChangePins(handle, -1);

    /// <summary>Whether a live allocation is pinned.</summary>
    /// <param name="handle">A live allocation.</param>
    /// <returns>False also for a handle that is not live.</returns>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    public bool IsPinned(ResourceHandle handle)
    {
        using (new Scope(this))
        {
            ThrowIfDisposed();
            ref int entry = ref _handles.GetValueRefOrNullRef(Handle<int>.FromRawValue(handle.RawValue));
            return !Unsafe.IsNullRef(ref entry) && RecordAt(entry).NextFree >> PinShift > 0;
        }
    }

    /// <summary>Moves allocations toward the region's start, each into the free block just before it, until about
    /// <paramref name="maxBytesToMove"/> bytes have moved or nothing more can: the free bytes gather at the end, and the
    /// largest free block grows. Incremental: call it once per frame with a budget; each call continues where the free
    /// blocks are now.</summary>
    /// <param name="maxBytesToMove">The most bytes to copy in this call (an allocation larger than what is left of the
    /// budget is skipped); 0 moves nothing.</param>
    /// <param name="moving">Called for each move before the bytes are copied, with the old and the new address and the
    /// size (the manager keeps its own watch on addresses up to date); null for none.</param>
    /// <returns>What moved, and the largest free block before and after.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytesToMove"/> is negative.</exception>
    /// <exception cref="ObjectDisposedException">The arena has been disposed.</exception>
    /// <remarks>
    /// <para>Every handle stays valid, but an address resolved before the call is invalid after it if its allocation
    /// moved: resolve again. Pinned allocations (<see cref="Pin"/>) never move; nor does an allocation whose alignment the
    /// free block before it does not meet (it waits until the blocks before it have moved), nor does one carved by an
    /// <see cref="ArenaAllocator"/> (pool slabs hold their addresses: it pins what it allocates).</para>
    /// <para>O(blocks) per call, under the arena's lock: allocations and frees of this arena wait for it.</para>
    /// </remarks>
    public DefragmentationStats Defragment(long maxBytesToMove, Action<nint, nint, long>? moving = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytesToMove);
        using (new Scope(this))
        {
            ThrowIfDisposed();
            long before = StatsCore().LargestFreeBlock;
            long moved = 0;
            int moves = 0;
            int skipped = 0;
            int block = FirstPhysical();
            while (block != None)
            {
                ref Record free = ref RecordAt(block);
                if (free.PrevFree == Used)
                {
                    block = free.NextPhys;
                    continue;
                }

                int next = free.NextPhys;
                if (next == None)
                {
                    break; // the free block at the end: nothing after it to move
                }

                ref Record used = ref RecordAt(next); // used: no two free blocks touch
                long alignment = 1L << (used.NextFree & AlignmentMask);
                if (used.NextFree >> PinShift > 0 || free.Offset % alignment != 0 || used.Size > maxBytesToMove - moved)
                {
                    skipped++;
                    block = used.NextPhys; // leave it; look further on
                    continue;
                }

                // Slide the used block down into the free block's place; the free block moves up behind it.
                long from = used.Offset;
                long to = free.Offset;
                long size = used.Size;
                moving?.Invoke((nint)(_base + from), (nint)(_base + to), size);
                Buffer.MemoryCopy(_base + from, _base + to, size, size); // overlapping ranges are copied correctly
                RemoveFree(block);
                int previous = free.PrevPhys;
                int after = used.NextPhys;
                used.Offset = to;
                used.PrevPhys = previous;
                used.NextPhys = block;
                free.Offset = to + size;
                free.PrevPhys = next;
                free.NextPhys = after;
                if (previous != None)
                {
                    RecordAt(previous).NextPhys = next;
                }

                if (after != None)
                {
                    RecordAt(after).PrevPhys = block;
                    if (RecordAt(after).PrevFree != Used)
                    {
                        RemoveFree(after);
                        MergeIntoPrevious(after); // the free space joins the free block after it
                    }
                }

                InsertFree(block);
                moved += size;
                moves++;
                // The free block (now after the moved one) is looked at again: the next block may slide down too.
            }

            _bytesMoved += moved;
            _moves += moves;
            return new DefragmentationStats(moves, moved, skipped, before, StatsCore().LargestFreeBlock);
        }
    }

    /// <summary>Bytes moved by <see cref="Defragment"/> since creation.</summary>
    public long BytesMoved
    {
        get
        {
            using (new Scope(this))
            {
                return _bytesMoved;
            }
        }
    }

    /// <summary>Moves made by <see cref="Defragment"/> since creation.</summary>
    public long Moves
    {
        get
        {
            using (new Scope(this))
            {
                return _moves;
            }
        }
    }

    private ResourceStatus ChangePins(ResourceHandle handle, int delta)
    {
        using (new Scope(this))
        {
            ThrowIfDisposed();
            ref int entry = ref _handles.GetValueRefOrNullRef(Handle<int>.FromRawValue(handle.RawValue)); // throws for a foreign handle
            if (Unsafe.IsNullRef(ref entry))
            {
                return handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
            }

            ref Record r = ref RecordAt(entry);
            int pins = (r.NextFree >> PinShift) + delta;
            if (pins < 0)
            {
                ThrowHelper.ThrowInvalidOperation("The allocation is not pinned: every Unpin follows a Pin.");
            }

            if (pins > MaxPins)
            {
                ThrowHelper.ThrowInvalidOperation("The allocation is pinned too many times.");
            }

            r.NextFree = (pins << PinShift) | (r.NextFree & AlignmentMask);
            return ResourceStatus.Ok;
        }
    }
}
