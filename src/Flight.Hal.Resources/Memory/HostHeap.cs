using System.Diagnostics;

namespace Flight.Hal.Resources;

/// <summary>A region backed directly by the host's allocator (a profile region with host-heap backing): one native
/// allocation per request, counted against the region's size, every live pointer remembered so that
/// <see cref="Dispose"/> (or the finalizer) returns them all.</summary>
/// <remarks>This class is thread-safe: all members may be used by multiple threads concurrently.</remarks>
internal sealed unsafe class HostHeap : IRegionAllocator
{
    private readonly NativeAllocator _allocator;
    private readonly long _capacity;
    private readonly int _minAlignment;
    private readonly object _lock = new();
    private readonly Dictionary<nint, (nuint Bytes, nuint Alignment)> _live = [];
    private long _used;
    private long _peak;
    private long _failures;
    private long _allocations;
    private bool _disposed;

    public HostHeap(long capacity, int minAlignment, NativeAllocator allocator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _capacity = capacity;
        _minAlignment = Math.Max(16, minAlignment);
        _allocator = allocator;
    }

    ~HostHeap()
    {
        // A finalizer must never throw: on the finalizer thread that ends the process. Release frees through the
        // allocator, whose own backing may already be gone in any finalization order; what cannot be freed is gone with it.
        try
        {
            Release();
        }
        catch (Exception exception)
        {
            Debug.WriteLine($"HostHeap finalizer: {exception.Message}");
        }
    }

    /// <summary>Allocates <paramref name="size"/> bytes; <see cref="ResourceStatus.RegionExhausted"/> past the region's
    /// size, <see cref="ResourceStatus.OutOfMemory"/> when the host refuses. The token is the address.</summary>
    public ResourceStatus TryAllocate(long size, int alignment, out ulong memory)
    {
        memory = 0;
        nuint align = (nuint)Math.Max(alignment, _minAlignment);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (size > _capacity - _used)
            {
                _failures++;
                return ResourceStatus.RegionExhausted;
            }

            void* pointer = _allocator.TryAllocate((nuint)size, align);
            if (pointer == null)
            {
                _failures++;
                return ResourceStatus.OutOfMemory;
            }

            memory = (ulong)pointer;
            _live.Add((nint)pointer, ((nuint)size, align));
            _used += size;
            _allocations++;
            _peak = Math.Max(_peak, _used);
            return ResourceStatus.Ok;
        }
    }

    /// <summary>Frees an address <see cref="TryAllocate"/> returned.</summary>
    /// <exception cref="InvalidOperationException">The address is not live here (an accounting bug in the caller).</exception>
    public void Free(ulong memory)
    {
        nint address = (nint)memory;
        lock (_lock)
        {
            if (_disposed)
            {
                return; // everything went back at Dispose
            }

            if (!_live.Remove(address, out (nuint Bytes, nuint Alignment) block))
            {
                ThrowHelper.ThrowInvalidOperation($"0x{address:x} is not a live host-heap allocation.");
            }

            _allocator.Free((void*)address, block.Bytes, block.Alignment);
            _used -= (long)block.Bytes;
        }
    }

    /// <summary>The address behind a token: the token itself.</summary>
    public nint AddressOf(ulong memory) => (nint)memory;

    /// <summary>The host heap keeps no native bookkeeping of its own (the system allocator's is not counted).</summary>
    /// <returns>Zero bytes.</returns>
    public MetadataStats GetMetadataStats() => default;

    /// <summary>The heap's use in an arena's terms: capacity is the bytes it may hand out, nothing is reserved, and the
    /// free bytes are one piece (the host finds room for any request up to them, or says OutOfMemory).</summary>
    public ArenaStats GetStats()
    {
        lock (_lock)
        {
            long free = _capacity - _used;
            return new ArenaStats(
                _capacity, ReservedBytes: 0, _used, free, _peak, LargestFreeBlock: free, _live.Count,
                FreeBlockCount: free > 0 ? 1 : 0, _allocations, _failures, FragmentationFailures: 0);
        }
    }

    /// <inheritdoc/>
    public void AddFreeBlocks(Span<long> counts, Span<long> bytes)
    {
        long free;
        lock (_lock)
        {
            free = _capacity - _used;
        }

        if (free > 0)
        {
            int bucket = System.Numerics.BitOperations.Log2((ulong)free);
            counts[bucket]++;
            bytes[bucket] += free;
        }
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (KeyValuePair<nint, (nuint Bytes, nuint Alignment)> block in _live)
            {
                _allocator.Free((void*)block.Key, block.Value.Bytes, block.Value.Alignment);
            }

            _live.Clear();
            _used = 0;
        }
    }
}
