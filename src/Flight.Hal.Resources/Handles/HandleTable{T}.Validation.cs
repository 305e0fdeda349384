using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Handle checks off the hot paths: why a handle does not name a live entry (disposed, null, foreign — which throws —
// or stale), the manager's non-throwing Check, the tag and base generation, and the test hook.
public sealed unsafe partial class HandleTable<T>
{
    /// <summary>The tag every handle of this table carries.</summary>
    internal int Tag => _tag;

    /// <summary>Every generation this table issues is above this (even) value; a handle with this tag and a generation at
    /// or below it comes from a disposed table that had the same tag.</summary>
    internal uint BaseGeneration => _baseGeneration;

    /// <summary>Why <paramref name="handle"/> does or does not name a live entry, without throwing: <see cref="ResourceStatus.Ok"/>;
    /// <see cref="ResourceStatus.StaleHandle"/> (this table issued exactly this handle once, and it was freed since); or
    /// <see cref="ResourceStatus.InvalidHandle"/> (never issued here: null, forged — a slot never used, an even generation, a
    /// generation the slot has not reached — another table's, or a disposed table's). For callers that report rather than
    /// throw, such as the manager.</summary>
    internal ResourceStatus Check(Handle<T> handle)
    {
        ulong raw = handle.RawValue;
        uint generation = HandleLayout.Generation(raw);
        int index = HandleLayout.Index(raw);
        if (!_slots.IsAllocated || !HandleLayout.IsFromIssuer(raw, _tag, _baseGeneration) || (generation & 1) == 0 || (uint)index >= (uint)_highWater)
        {
            return ResourceStatus.InvalidHandle;
        }

        ulong key = _slots.At(index, PageShift)->Key;
        if (key == raw)
        {
            return ResourceStatus.Ok;
        }

        // Every odd generation from the base up to the slot's last issued one was issued once; a retired slot (key 0) was
        // issued every generation up to the wrap. A free key holds the next, even generation.
        uint lastIssued = key == 0 ? _retireAt : IsLive(key) ? HandleLayout.Generation(key) : HandleLayout.Generation(key) - 1;
        return generation <= lastIssued ? ResourceStatus.StaleHandle : ResourceStatus.InvalidHandle;
    }

    /// <summary>Test hook: moves a live entry's slot to <paramref name="generation"/> (odd) so the wrap point can be
    /// reached without four billion frees; the entry's old handles become stale.</summary>
    internal Handle<T> SetGenerationForTesting(Handle<T> handle, uint generation)
    {
        Debug.Assert((generation & 1) == 1, "Live generations are odd.");
        if (!Contains(handle))
        {
            ThrowHelper.ThrowResourceException(ResourceStatus.StaleHandle);
        }

        ulong raw = HandleLayout.Pack(_tag, handle.Index, generation);
        _slots.At(handle.Index, PageShift)->Key = raw;
        return new Handle<T>(raw);
    }

    /// <summary>Why a handle did not match its slot (or had none): disposed, null, foreign, or stale.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus Mismatch(ulong raw)
    {
        if (!_slots.IsAllocated)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        return HandleLayout.ClassifyMiss(raw, _tag, _baseGeneration);
    }

    /// <summary>The slow path of <see cref="GetValueRefOrNullRef(Handle{T})"/>: throws for disposed or foreign, else a null reference.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref T LookupMismatch(ulong raw)
    {
        Mismatch(raw);
        return ref Unsafe.NullRef<T>();
    }
}
