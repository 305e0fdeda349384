using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Defragmentation through handles at the manager: a region's arena compacts its blocks (Arena.Defragment), every
// handle stays valid, and pinned resources (Pin, or a scoped PinnedResource) never move.
public sealed partial class ResourceManager
{
    /// <summary>Compacts the region of kind <paramref name="region"/>: resources slide toward its start so that its free
    /// bytes gather into one block (<see cref="Arena.Defragment"/>), moving at most about <paramref name="maxBytesToMove"/>
    /// bytes in this call. Incremental: call it once per frame with a budget, or after a <see cref="ResourceStatus.Fragmented"/>
    /// refusal.</summary>
    /// <param name="region">Main, video or sound memory (main memory when the profile has none of that kind).</param>
    /// <param name="maxBytesToMove">The most bytes to copy in this call; 0 moves nothing.</param>
    /// <returns>What moved, and the region's largest free block before and after. A region on the host heap has nothing
    /// to compact: nothing moves.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytesToMove"/> is negative, or
    /// <paramref name="region"/> is unknown.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>
    /// <para>Every handle stays valid and refers to the same bytes. <b>An address resolved before the call is invalid
    /// after it</b> if its resource moved: resolve again after defragmenting (a <see cref="Span{T}"/> from
    /// <see cref="GetSpan"/> is an address too). Resources whose address is in use elsewhere — by the GPU, a DMA transfer,
    /// another thread — must be pinned (<see cref="Pin"/>, <see cref="PinScoped"/>) while it is. Pool blocks never move
    /// (their slabs are pinned).</para>
    /// <para>The region's arena is locked for the call: acquisitions, releases and resolves in it wait.</para>
    /// </remarks>
    public DefragmentationStats Defragment(RegionKind region, long maxBytesToMove)
    {
        ThrowIfDisposed();
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytesToMove);
        if ((uint)region > (uint)RegionKind.Sound)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(region), region, "Unknown region kind.");
        }

        Region target = RegionFor(region);
        if (target.Memory is not Arena arena)
        {
            long largest = target.GetStats().LargestFreeBlock;
            return new DefragmentationStats(0, 0, 0, largest, largest);
        }

        MemorySafety? safety = _safety;
        Action<nint, nint, long>? moving = safety == null ? null : (from, to, size) => safety.OnMoved(from, to, size, SafetyFindings());
        DefragmentationStats stats = arena.Defragment(maxBytesToMove, moving);
        if (safety != null)
        {
            ThrowIfCorruptionFound(default); // released memory the moves overwrote was checked first
        }

        return stats;
    }

    /// <summary>Pins a resource: <see cref="Defragment"/> does not move it until it is unpinned as many times. Pins nest;
    /// releasing the resource drops its pins.</summary>
    /// <param name="handle">A live handle (for shared memory, any of its handles: the memory is pinned).</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.
    /// A pooled resource, or one on the host heap, never moves: pinning it is accepted and changes nothing.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus Pin(ResourceHandle handle) => ChangePin(handle, pin: true);

    /// <summary>Undoes one <see cref="Pin"/>.</summary>
    /// <param name="handle">A live handle.</param>
    /// <returns>As <see cref="Pin"/>.</returns>
    /// <exception cref="InvalidOperationException">The resource's memory is in an arena and is not pinned.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public ResourceStatus Unpin(ResourceHandle handle) => ChangePin(handle, pin: false);

    /// <summary>Pins a resource until the returned value is disposed: <c>using (manager.PinScoped(texture)) { submit the
    /// texture's address to the GPU }</c>.</summary>
    /// <param name="handle">A live handle.</param>
    /// <returns>The pin.</returns>
    /// <exception cref="ResourceException">The handle is not live (<see cref="ResourceStatus.StaleHandle"/> or
    /// <see cref="ResourceStatus.InvalidHandle"/>).</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    public PinnedResource PinScoped(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(Pin(handle));
        return new PinnedResource(this, handle);
    }

    private ResourceStatus ChangePin(ResourceHandle handle, bool pin)
    {
        ThrowIfDisposed();
        ulong raw = handle.RawValue;
        PoolBinding? binding = _poolByTag[HandleLayout.Tag(raw)];
        if (binding != null)
        {
            return CheckPooled(binding, raw, out _); // a pool block never moves
        }

        if (!IsRegistryHandle(raw))
        {
            return ResourceStatus.InvalidHandle;
        }

        lock (_lock)
        {
            ref Entry e = ref EntryOrNullRef(raw);
            if (Unsafe.IsNullRef(ref e))
            {
                return NotLive(raw);
            }

            Underlying(in e, out byte placement, out ulong memory, out _);
            if (KindOf(placement) != PlacementRegion || _regions[RegionIndexOf(placement)].Memory is not Arena arena)
            {
                return ResourceStatus.Ok; // a pool block or host-heap memory: never moved
            }

            ResourceHandle block = ResourceHandle.FromRawValue(memory);
            return pin ? arena.Pin(block) : arena.Unpin(block);
        }
    }
}

/// <summary>A pin held until disposed (<see cref="ResourceManager.PinScoped"/>): the resource does not move meanwhile.</summary>
public readonly struct PinnedResource : IDisposable
{
    private readonly ResourceManager? _manager;

    internal PinnedResource(ResourceManager manager, ResourceHandle handle)
    {
        _manager = manager;
        Handle = handle;
    }

    /// <summary>The pinned resource.</summary>
    public ResourceHandle Handle { get; }

    /// <summary>Unpins it; nothing happens if the resource was released meanwhile or the manager disposed. Dispose a
    /// copy once only: each dispose undoes one pin.</summary>
    public void Dispose()
    {
        if (_manager != null && !_manager.IsDisposed)
        {
            _manager.Unpin(Handle);
        }
    }
}
