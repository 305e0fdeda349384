using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// The memory-safety mode (ResourceManagerOptions.MemorySafety): guards around every resource, fill patterns, and a
// watch on released memory; the state and the checks are MemorySafety's, the wiring into acquire and release is here.
public sealed partial class ResourceManager
{
    [ThreadStatic]
    private static List<CorruptionFinding>? t_findings; // Found by this thread's current operation, not yet reported.

    private readonly MemorySafety? _safety;

    /// <summary>Whether the memory-safety mode is on (<see cref="ResourceManagerOptions.MemorySafety"/>).</summary>
    public bool IsMemorySafetyOn => _safety != null;

    /// <summary>Damage the memory-safety mode has reported since the manager was created (0 when the mode is off).</summary>
    public long CorruptionFindings => _safety?.Findings ?? 0;

    /// <summary>Checks every guard of every live resource, and all released memory still watched, for damage.</summary>
    /// <param name="findings">What was found (empty when nothing), each attributed to its resource: handle, name, owner,
    /// type, size, placement and the offset of the first damaged byte from the resource's start.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> when nothing is damaged, else <see cref="ResourceStatus.Corrupted"/>.
    /// Each finding is also reported (<see cref="MemorySafetyOptions.CorruptionFound"/>, the event source's
    /// <c>CorruptionFound</c>, <see cref="CorruptionFindings"/>); damage stays where it is and is found again by the
    /// next check.</returns>
    /// <exception cref="InvalidOperationException">The memory-safety mode is off.</exception>
    /// <exception cref="MemoryCorruptionException">Damage was found and <see cref="MemorySafetyOptions.Strict"/> is set.</exception>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    /// <remarks>O(live resources + watched released bytes), under the safety mode's lock: acquisitions and releases wait.</remarks>
    public ResourceStatus CheckCorruption(out CorruptionFinding[] findings)
    {
        ThrowIfDisposed();
        if (_safety == null)
        {
            ThrowHelper.ThrowInvalidOperation("The memory-safety mode is off: set ResourceManagerOptions.MemorySafety.");
        }

        List<CorruptionFinding> found = SafetyFindings();
        _safety.CheckAll(found, IsPoolBlockStillFree);
        findings = [.. found];
        ThrowIfCorruptionFound(default);
        return findings.Length == 0 ? ResourceStatus.Ok : ResourceStatus.Corrupted;
    }

    /// <summary>This thread's list of findings for the operation under way.</summary>
    private static List<CorruptionFinding> SafetyFindings() => t_findings ??= [];

    /// <summary>Where the pools carve their slabs on an arena-backed profile; in the safety mode a slab carved over
    /// watched released memory checks it first.</summary>
    private ArenaAllocator SlabAllocator(Arena arena)
    {
        var allocator = new ArenaAllocator(arena);
        if (_safety is { } safety)
        {
            allocator.Allocated = (start, length) => safety.OnArenaAllocated(start, length, SafetyFindings());
        }

        return allocator;
    }

    /// <summary>A pool block's key in the safety mode's watch: the pool's tag and the block's index.</summary>
    private static ulong PoolBlockKey(ulong raw) => ((ulong)(uint)HandleLayout.Tag(raw) << 32) | (uint)HandleLayout.Index(raw);

    private bool IsPoolBlockStillFree(ulong key, uint freeGeneration)
    {
        PoolBinding? binding = _poolByTag[(int)(key >> 32)];
        return binding != null && binding.Pool.GenerationAt((int)(uint)key) == freeGeneration;
    }

    /// <summary>Memory just allocated for a resource (a pool block or region memory): the released memory it reuses is
    /// checked for writes since its release. Out of line: the acquisition path pays only the mode's null test.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WatchReuse(byte placement, ulong memory, long blockSize)
    {
        if (KindOf(placement) == PlacementPool)
        {
            _safety!.OnPoolBlockRented(PoolBlockKey(memory), HandleLayout.Generation(memory), BlockAddressOf(placement, memory), SafetyFindings());
        }
        else if (_regions[RegionIndexOf(placement)].Memory is Arena)
        {
            _safety!.OnArenaAllocated(BlockAddressOf(placement, memory), blockSize, SafetyFindings());
        }
    }

    /// <summary>A guarded resource's first byte: its block's address past the front guard. Out of line, so that resolving
    /// pays only the mode's null test when it is off.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint GuardedAddressOf(byte placement, ulong memory) => BlockAddressOf(placement, memory) + _safety!.OffsetOf(placement, memory);

    /// <summary>Pins (or unpins) an arena block while the safety mode reads its address and writes its guards or fills:
    /// a Defragment on another thread must not move it meanwhile. Pool blocks and host-heap memory never move. A block
    /// freed while pinned (a failed registration) drops its pin with it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PinWhileGuarding(byte placement, ulong memory, bool pin)
    {
        if (KindOf(placement) == PlacementRegion && _regions[RegionIndexOf(placement)].Memory is Arena arena)
        {
            ResourceHandle block = ResourceHandle.FromRawValue(memory);
            ResourceStatus status = pin ? arena.Pin(block) : arena.Unpin(block);
            System.Diagnostics.Debug.Assert(status == ResourceStatus.Ok, "The block is live while it is guarded.");
        }
    }

    /// <summary>Fills a new resource's guards and bytes, and watches them.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GuardNew(byte placement, ulong memory, in Request r, ResourceHandle handle)
    {
        string? name = r.NameText ?? (r.Name.IsEmpty ? null : r.Name.ToString());
        string where = KindOf(placement) == PlacementPool ? _poolByTag[HandleLayout.Tag(memory)]!.Placement : _regions[RegionIndexOf(placement)].Spec.Name;
        var identity = new MemorySafety.Identity(handle, name, OwnerName(r.Owner), r.Metadata.Type, where);
        _safety!.Guard(placement, memory, BlockAddressOf(placement, memory), in r.Metadata, identity);
    }

    /// <summary>Frees a guarded resource's memory (through <see cref="FreeMemory"/>, with its guarded size) after the safety
    /// mode has checked and filled it: a pool block goes back to its pool, an arena block to its arena, a host-heap block to
    /// the quarantine (and the blocks leaving it are freed).
    /// False when the memory was never guarded (its registration failed): the caller frees it as usual.</summary>
    private bool FreeGuarded(byte placement, ulong memory)
    {
        List<CorruptionFinding> findings = SafetyFindings();
        if (KindOf(placement) == PlacementPool)
        {
            var at = new MemorySafety.ReleasedAt(MemorySafety.ReleasedAt.Pool, PoolBlockKey(memory), HandleLayout.Generation(memory) + 2, 0);
            if (!_safety!.Release(placement, memory, in at, findings, out _, evicted: null))
            {
                return false;
            }

            FreeMemory(placement, memory, 0);
            return true;
        }

        int index = RegionIndexOf(placement);
        Region region = _regions[index];
        if (region.Memory is Arena arena)
        {
            // Pinned from the check and fill to the free (which drops the pin), so that a Defragment on another thread
            // cannot move the block between them: the watched range must be where the free leaves it.
            arena.Pin(ResourceHandle.FromRawValue(memory));
            var at = new MemorySafety.ReleasedAt(MemorySafety.ReleasedAt.Arena, 0, 0, index);
            if (!_safety!.Release(placement, memory, in at, findings, out long padded, evicted: null))
            {
                arena.Unpin(ResourceHandle.FromRawValue(memory));
                return false;
            }

            FreeMemory(placement, memory, padded);
            return true;
        }

        var evicted = new List<(int Region, ulong Memory, long Padded)>();
        var quarantine = new MemorySafety.ReleasedAt(MemorySafety.ReleasedAt.HostHeap, 0, 0, index);
        if (!_safety!.Release(placement, memory, in quarantine, findings, out _, evicted))
        {
            return false;
        }

        foreach ((int evictedRegion, ulong evictedMemory, long evictedBytes) in evicted)
        {
            FreeMemory(RegionPlacement(evictedRegion), evictedMemory, evictedBytes);
        }

        return true;
    }

    /// <summary>Reports what this thread's operation found (callback, event, count); in the strict setting, then undoes
    /// <paramref name="undo"/> (an acquisition that found the damage: its handle is released) and throws.</summary>
    private void ThrowIfCorruptionFound(ResourceHandle undo)
    {
        List<CorruptionFinding>? findings = t_findings;
        if (findings == null || findings.Count == 0)
        {
            return;
        }

        CorruptionFinding[] found = [.. findings];
        findings.Clear();
        _safety!.Count(found.Length);
        foreach (CorruptionFinding finding in found)
        {
            if (ResourceEventSource.Log.IsEnabled())
            {
                ResourceEventSource.Log.CorruptionFound((long)finding.Kind, (long)finding.Handle.RawValue, finding.Offset, finding.DamagedBytes);
            }

            if (_safety.Options.CorruptionFound is { } callback)
            {
                try
                {
                    callback(finding);
                }
                catch (Exception exception)
                {
                    CallbackFaulted?.Invoke(this, new CallbackFaultEventArgs(finding.Type, isReclamation: false, exception));
                }
            }
        }

        if (_safety.Options.Strict)
        {
            if (!undo.IsNull)
            {
                ReleaseCore(undo);
                findings.Clear(); // the undo's own release finds nothing new in a block just filled
            }

            throw new MemoryCorruptionException(found);
        }
    }
}
