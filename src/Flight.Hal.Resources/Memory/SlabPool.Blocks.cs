using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

// The blocks: native slabs added as the pool grows, one generation per block, the shared free list threaded through
// the free blocks themselves; rent and return, whose unsynchronised paths are here and whose thread-safe ones
// continue in SlabPool.ThreadSafe.cs. Every rent ends in one place (IssueRented), every return starts with one handle
// check (HasRentedShape, in SlabPool.Handles.cs).
public sealed unsafe partial class SlabPool
{
    private const int EndOfList = -1;
    private const int LinkPointerOffset = 8; // A free block holds the next index at 0 and the next address at 8.

    private readonly int _blocksPerSlab;     // Power of two; == 1 << _slabShift.
    private readonly int _slabShift;
    private readonly int _slabMask;          // _blocksPerSlab - 1.
    private readonly nuint _slabAlignment;   // Alignment slabs are allocated with: max(_alignment, 64).
    private readonly nint[] _slabs;          // Slab base addresses; [0, _slabCount) are live, each stored before _totalBlocks grows.
    private readonly nuint _generationBytes; // Size of the _generations block: _maxCount * 4.

    private uint* _generations;              // Owned; _maxCount entries, [0, _bumpIndex) initialised. Odd: rented. Null once disposed.
    private int _slabCount;                  // Slabs allocated.
    private int _totalBlocks;                // Usable blocks in allocated slabs.
    private int _bumpIndex;                  // Blocks [0, _bumpIndex) have been rented at least once; valid handles lie below it.
    private int _freeHead = EndOfList;       // Shared free list head (index) ...
    private byte* _freeHeadBlock;            // ... and its address; null when the list is empty.
    private int _outstanding;                // Blocks that are neither on the shared list nor fresh: rented, or in a thread cache.
    private int _peak;                       // Largest _outstanding seen.
    private int _retired;                    // Blocks retired at the generation wrap point.

    /// <summary>Rents one block.</summary>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the block's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.PoolExhausted"/> when all
    /// <see cref="MaxCount"/> blocks are in use; <see cref="ResourceStatus.OutOfMemory"/> when a new slab could not
    /// be allocated.</returns>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory (a thread-safe pool allocates one small cache per thread on first use).
    /// The block's contents are unspecified.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus TryRent(out ResourceHandle handle)
    {
        if (_lock == null)
        {
            // PERF: the unsynchronised fast path. No disposed check here: disposal empties the free list and the fresh
            // range, so a disposed pool always reaches RentUnsynchronizedSlow, which throws.
            if (!TryTakeFree(out int index))
            {
                return RentUnsynchronizedSlow(out handle);
            }

            handle = IssueRented(index, publish: false);
            return ResourceStatus.Ok;
        }

        return TryRentSynchronized(out handle);
    }

    /// <summary>Rents one block for <paramref name="byteCount"/> bytes.</summary>
    /// <param name="byteCount">1 to <see cref="BlockSize"/>.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the block's handle; otherwise <see langword="default"/>.</param>
    /// <returns>As <see cref="TryRent(out ResourceHandle)"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="byteCount"/> is 0, negative or larger than a block.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public ResourceStatus TryRent(int byteCount, out ResourceHandle handle)
    {
        if ((uint)(byteCount - 1) >= (uint)_blockSize)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteCount), byteCount, $"A block of this pool holds 1 to {_blockSize} bytes.");
        }

        return TryRent(out handle);
    }

    /// <summary>Rents one block, throwing if none can be had.</summary>
    /// <returns>The block's handle.</returns>
    /// <exception cref="ResourceException">No block could be rented; <see cref="ResourceException.Status"/> says why.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public ResourceHandle Rent()
    {
        ThrowHelper.ThrowIfFailed(TryRent(out ResourceHandle handle));
        return handle;
    }

    /// <summary>Returns a rented block; every copy of <paramref name="handle"/> becomes stale.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> for a double return or a
    /// handle whose block was rented again since; <see cref="ResourceStatus.InvalidHandle"/> for the null handle.
    /// Nothing is touched unless the result is <see cref="ResourceStatus.Ok"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus Return(ResourceHandle handle) => ReturnCore(handle.RawValue, _publicTag, toShared: false, locals: null);

    /// <summary>Return for the pool's owning resource manager: as <see cref="Return"/>, without the check
    /// that refuses the manager's own blocks.</summary>
    /// <param name="handle">The block.</param>
    /// <param name="toShared">Put the block on the shared list rather than in this thread's cache, so a thread waiting
    /// for one can have it (the manager asks for this while acquisitions wait).</param>
    /// <param name="locals">The calling thread's <see cref="ThreadIndex.Locals"/> when the caller has read them (one
    /// thread-static read for all it does); null to look them up.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ResourceStatus ReturnOwned(ResourceHandle handle, bool toShared, ThreadLocals? locals = null) =>
        ReturnCore(handle.RawValue, _acceptedTag, toShared, locals);

    /// <summary>Return in either mode: the one handle check, then the unsynchronised free here, or the thread-safe one
    /// (<see cref="ReturnSynchronized"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceStatus ReturnCore(ulong raw, int acceptedTag, bool toShared, ThreadLocals? locals)
    {
        // The accepted tag is -1 for a disposed pool and on a claimed pool's public path, so those always take the slow path.
        if (!HasRentedShape(raw, acceptedTag, out int index, out uint generation))
        {
            return ReturnRefused(raw, acceptedTag);
        }

        uint next = generation == uint.MaxValue ? 0 : generation + 1; // odd (rented) -> even (free); 0: retire rather than wrap (no ABA)
        if (_lock == null)
        {
            // SAFETY: index < _bumpIndex <= _maxCount, and generations [0, _bumpIndex) are initialised.
            uint* slot = _generations + index;
            if (*slot != generation)
            {
                return NotRented(raw); // stale (returned already, or rented again since), or a disposed pool's: throws
            }

            *slot = next;
            if (next == 0)
            {
                _outstanding--;
                _retired++;
                return ResourceStatus.Ok;
            }

            PushShared(index); // also counts the block off _outstanding
            return ResourceStatus.Ok;
        }

        return ReturnSynchronized(raw, index, generation, next, toShared, locals);
    }

    /// <summary>Rents block <paramref name="index"/>, just taken free (even generation) off a list, a thread cache or the
    /// fresh range: advances its generation to the next, odd value and packs the handle that names it. Every rent, in
    /// either mode, ends here. The generation cannot wrap: <see cref="uint.MaxValue"/> is odd, and a block returned under
    /// it is retired, never freed.</summary>
    /// <param name="index">A block below _bumpIndex, free and now off every list and cache.</param>
    /// <param name="publish">Write the generation with release semantics, as thread-safe pools must (other threads read
    /// it: IsRented, lookups). A constant at every call, so the inlined branch folds away and the unsynchronised path
    /// keeps its plain store.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ResourceHandle IssueRented(int index, bool publish)
    {
        // SAFETY: index < _bumpIndex <= _maxCount, the length of _generations.
        uint* slot = _generations + index;
        uint rented = *slot + 1; // even (free) -> odd (rented)
        Debug.Assert((rented & 1) == 1, "Only a free block (even generation) is rented.");
        if (publish)
        {
            Volatile.Write(ref *slot, rented);
        }
        else
        {
            *slot = rented;
        }

        return new ResourceHandle(HandleLayout.Pack(_tag, index, rented));
    }

    /// <summary>The address of block <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* BlockAddress(int index)
    {
        // SAFETY: callers pass index < _bumpIndex <= _totalBlocks; every block below _totalBlocks lies in a slab whose
        // address was stored before _totalBlocks grew past it, so index >> _slabShift < _slabCount <= _slabs.Length.
        Debug.Assert((uint)index < (uint)Volatile.Read(ref _totalBlocks), "Block index beyond the allocated slabs.");
        Debug.Assert((index >> _slabShift) < _slabs.Length, "Slab index out of range.");
        nint slab = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_slabs), index >> _slabShift);
        Debug.Assert(slab != 0, "Slab not allocated.");
        return (byte*)slab + ((nint)(index & _slabMask) * _blockSize);
    }

    /// <summary>Unsynchronised slow path: the free list and the fresh range are empty, or the pool is disposed.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus RentUnsynchronizedSlow(out ResourceHandle handle)
    {
        ThrowIfDisposed();
        ResourceStatus status = TryGrowLocked();
        if (status != ResourceStatus.Ok)
        {
            handle = default;
            return status;
        }

        return TryRent(out handle);
    }

    /// <summary>Takes a free block off the shared list, or else carves the next fresh one, and counts it as
    /// outstanding; its generation stays even (free). Unsynchronised pools, or under the lock.</summary>
    /// <returns>False when the list and the fresh range are both empty (nothing changed).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryTakeFree(out int index)
    {
        byte* block = _freeHeadBlock;
        if (block != null)
        {
            // SAFETY: the head is a free block; its first 16 bytes hold the next free block's index and address.
            index = _freeHead;
            _freeHead = *(int*)block;
            _freeHeadBlock = *(byte**)(block + LinkPointerOffset);
        }
        else if (_bumpIndex < _totalBlocks)
        {
            index = _bumpIndex;
            _generations[index] = _baseGeneration;     // first use: even (free), never issued; the next rent is above the base
            Volatile.Write(ref _bumpIndex, index + 1); // publish after the generation is initialised

            // The fresh range is used only when the free list is empty, so only here can the count of blocks in use
            // pass its earlier peak.
            _peak = Math.Max(_peak, _outstanding + 1);
        }
        else
        {
            index = EndOfList;
            return false;
        }

        _outstanding++;
        return true;
    }

    /// <summary>Pushes a free block onto the shared list. Unsynchronised pools, or under the lock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PushShared(int index)
    {
        // SAFETY: the block is free (its generation is even) and in no cache, so its first 16 bytes are ours for the link.
        byte* block = BlockAddress(index);
        *(int*)block = _freeHead;
        *(byte**)(block + LinkPointerOffset) = _freeHeadBlock;
        _freeHead = index;
        _freeHeadBlock = block;
        _outstanding--;
    }

    private ResourceStatus TryGrowLocked()
    {
        if (_totalBlocks >= _maxCount)
        {
            return ResourceStatus.PoolExhausted;
        }

        return TryAddSlab() ? ResourceStatus.Ok : ResourceStatus.OutOfMemory;
    }

    private bool TryAddSlab()
    {
        Debug.Assert(_totalBlocks < _maxCount && _slabCount < _slabs.Length, "Growth past MaxCount.");
        nuint bytes = SlabBytes(_slabCount);
        byte* slab = (byte*)_allocator.TryAllocate(bytes, _slabAlignment);
        if (slab == null)
        {
            return false;
        }

        // Blocks stay untouched (uncommitted, on most systems) until first rented.
        _slabs[_slabCount] = (nint)slab;
        int usable = UsableBlocks(_slabCount);
        _slabCount++;
        Volatile.Write(ref _totalBlocks, _totalBlocks + usable); // publish the slab after its address is stored
        return true;
    }

    private int UsableBlocks(int slab) => Math.Min(_blocksPerSlab, _maxCount - (slab << _slabShift));

    private nuint SlabBytes(int slab) => (nuint)UsableBlocks(slab) * (nuint)_blockSize;
}
