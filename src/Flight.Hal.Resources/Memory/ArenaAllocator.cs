namespace Flight.Hal.Resources;

/// <summary>A <see cref="NativeAllocator"/> that carves its memory from an <see cref="Arena"/>, so pools and tables built
/// on it compete for a platform region's bytes as they would on the machine.</summary>
/// <remarks>
/// <para>Meant for large pieces (slabs, tables), not per-object use: each allocation is one arena allocation, and the
/// allocator remembers its handle by address (one dictionary entry, allocated on the GC heap, per live allocation).
/// A request the arena cannot hold (full, fragmented, at its allocation bound, or aligned beyond
/// <see cref="ArenaConfig.MaxAlignment"/>) returns <see langword="null"/>, which pools report as
/// <see cref="ResourceStatus.OutOfMemory"/>.</para>
/// <para>The allocator does not own the arena. This class is thread-safe: all members may be used by multiple threads
/// concurrently.</para>
/// </remarks>
public sealed unsafe class ArenaAllocator : NativeAllocator
{
    private readonly Arena _arena;
    private readonly object _lock = new();
    private readonly Dictionary<nint, ResourceHandle> _live = new(); // address -> the arena allocation behind it

    /// <summary>Creates an allocator over <paramref name="arena"/>.</summary>
    /// <param name="arena">The region to allocate from; it must outlive everything allocated here.</param>
    /// <exception cref="ArgumentNullException"><paramref name="arena"/> is null.</exception>
    public ArenaAllocator(Arena arena)
    {
        ArgumentNullException.ThrowIfNull(arena);
        _arena = arena;
    }

    /// <summary>Called (under this allocator's lock) with the address and size of every allocation made: the manager's
    /// memory-safety mode learns which released memory a pool slab now covers.</summary>
    internal Action<nint, long>? Allocated { get; set; }

    /// <summary>The arena the memory comes from.</summary>
    public Arena Arena => _arena;

    /// <inheritdoc/>
    internal override bool AllocationsReadable => !_arena.IsDisposed;

    /// <inheritdoc/>
    protected override void* AllocateCore(nuint byteCount, nuint alignment)
    {
        if (alignment > ArenaConfig.MaxAlignment || byteCount > long.MaxValue)
        {
            return null;
        }

        lock (_lock)
        {
            if (_arena.TryAllocate((long)byteCount, (int)alignment, out ResourceHandle handle) != ResourceStatus.Ok)
            {
                return null;
            }

            _arena.TryResolve(handle, out nint address, out _);
            _arena.Pin(handle); // its user (a pool's slab, a table's pages) keeps the address: Defragment must not move it
            _live.Add(address, handle);
            Allocated?.Invoke(address, (long)byteCount);
            return (void*)address;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The pointer was not allocated here (or was freed already).</exception>
    protected override void FreeCore(void* pointer, nuint byteCount, nuint alignment)
    {
        lock (_lock)
        {
            if (!_live.Remove((nint)pointer, out ResourceHandle handle))
            {
                ThrowHelper.ThrowInvalidOperation($"0x{(nint)pointer:x} was not allocated by this ArenaAllocator.");
            }

            if (_arena.CanFree)
            {
                _arena.Free(handle); // a disposed (or half-finalized) arena took every block with it: finalizers run in any order
            }
        }
    }
}
