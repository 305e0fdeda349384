using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A generational slot map over native memory: O(1) allocate, free and lookup by <see cref="Handle{T}"/>.</summary>
/// <typeparam name="T">The entry type, stored inline in native memory.</typeparam>
/// <remarks>
/// <para><b>Memory.</b> Slots (an 8-byte key plus <c>sizeof(T)</c>, each) are committed a page at a time (512 slots)
/// as the table fills, up to <see cref="Capacity"/>, through the <see cref="NativeAllocator"/>: a table used a little
/// costs a little (<see cref="NativeBytes"/>; <see cref="MaxNativeBytes"/> at capacity). Nothing is allocated on the GC
/// heap after construction. Slots never move, so a <c>ref T</c> stays valid until its entry is freed or the table
/// disposed.</para>
/// <para><b>Handles.</b> Freeing an entry advances its slot's generation, so every older handle is detected as
/// stale — always, in every build. A slot whose 32-bit generation would wrap is retired and never reused, so a
/// stale handle can never match a later entry (no ABA); <see cref="RetiredCount"/> counts such slots. A handle
/// from another table — live, or disposed long ago even if its tag has since been reused — is rejected with an
/// <see cref="ArgumentException"/>, never misread.</para>
/// <para><b>Threads.</b> Instances are not thread-safe: use one per thread or synchronise externally. Concurrent
/// lookups are safe while no thread allocates or frees.</para>
/// </remarks>
// This file holds the table's life, allocation, freeing and the hot lookups; the slow-path handle checks are in
// HandleTable{T}.Validation.cs, enumeration in HandleTable{T}.Enumeration.cs. Each part says what it holds in a plain
// comment: XML docs on a part would be merged into the public type's documentation.
public sealed unsafe partial class HandleTable<T> : IDisposable
    where T : unmanaged
{
    /// <summary>Largest capacity (4,194,303): every slot index and the free-list end marker must fit a handle's index field.</summary>
    public const int MaxCapacity = HandleLayout.MaxSlots - 1;

    private const int PageShift = 9;      // 512 slots a page (16 KiB of 32-byte slots); a constant, so a lookup's page arithmetic is immediates.

    private NativePages<Slot> _slots;     // Owned; committed a page at a time up to Capacity slots. Unallocated once disposed.
    private readonly NativeAllocator _allocator;
    private readonly int _capacity;       // 1..MaxCapacity.
    private readonly int _tag;            // 1..HandleLayout.MaxTag.
    private readonly uint _baseGeneration; // Even; every generation issued here is above it (HandleTagAllocator's floor).
    private int _highWater;               // Slots [0, _highWater) have been used at least once; 0 once disposed.
    private int _freeHead = -1;           // LIFO free list through the slots' keys; -1 when empty.
    private int _count;                   // Live entries.
    private int _retiredCount;            // Slots whose generation wrapped; never on the free list again.
    private readonly uint _retireAt;      // Odd: a slot freed at this generation is retired (uint.MaxValue; compact: base + 4095).
    private readonly bool _compact;       // Issues CompactHandle<T>s too: generations stay within base + 1 .. base + 4095.

    /// <summary>Creates a table that can hold up to <paramref name="capacity"/> live entries.</summary>
    /// <param name="capacity">1 to <see cref="MaxCapacity"/>.</param>
    /// <param name="allocator">Where the slots come from; <see cref="NativeAllocator.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is out of range.</exception>
    /// <exception cref="OutOfMemoryException">The allocator could not provide the slots; nothing is leaked.</exception>
    /// <exception cref="InvalidOperationException">Every handle tag of the process is taken (1,023 tables, pools and arenas
    /// are alive); nothing is leaked.</exception>
    public HandleTable(int capacity, NativeAllocator? allocator = null)
        : this(capacity, allocator, compact: false)
    {
    }

    /// <summary>Creates a table that can hold up to <paramref name="capacity"/> live entries and, when
    /// <paramref name="compact"/>, also issues 4-byte <see cref="CompactHandle{T}"/>s for them.</summary>
    /// <param name="capacity">1 to <see cref="MaxCapacity"/>; compact: 1 to <see cref="CompactHandle{T}.MaxCapacity"/>.</param>
    /// <param name="allocator">Where the slots come from; <see cref="NativeAllocator.Default"/> when null.</param>
    /// <param name="compact">Keep every generation within the 12 bits a compact handle holds: a slot is retired after
    /// its 2,048th entry (see <see cref="CompactHandle{T}"/> for what that costs).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is out of range.</exception>
    /// <exception cref="OutOfMemoryException">The allocator could not provide the slots; nothing is leaked.</exception>
    /// <exception cref="InvalidOperationException">Every handle tag of the process is taken; nothing is leaked.</exception>
    public HandleTable(int capacity, NativeAllocator? allocator, bool compact)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, compact ? CompactHandle<T>.MaxCapacity : MaxCapacity);
        _allocator = allocator ?? NativeAllocator.Default;
        _capacity = capacity;
        _compact = compact;
        if (!_slots.TryInitialize(capacity, _allocator, PageShift))
        {
            GC.SuppressFinalize(this);
            throw new OutOfMemoryException($"Could not allocate the page directory of a handle table of {capacity} slots.");
        }

        try
        {
            _tag = HandleTagAllocator.Rent(out _baseGeneration);
            _retireAt = compact ? (uint)Math.Min((ulong)_baseGeneration + CompactHandle<T>.MaxGeneration, uint.MaxValue) : uint.MaxValue;
        }
        catch
        {
            // No tag: give the slots back now rather than leave them to the finalizer.
            _slots.Free(_allocator);
            GC.SuppressFinalize(this);
            throw;
        }
    }

    /// <summary>Frees the native slots if the table was never disposed.</summary>
    ~HandleTable()
    {
        // A finalizer must never throw: on the finalizer thread that ends the process. Release frees through the
        // allocator, whose own backing may already be gone in any finalization order; what cannot be freed is gone with it.
        try
        {
            Release();
        }
        catch (Exception exception)
        {
            Debug.WriteLine($"HandleTable finalizer: {exception.Message}");
        }
    }

    /// <summary>The most live entries the table can hold at once.</summary>
    public int Capacity => _capacity;

    /// <summary>Live entries.</summary>
    public int Count => _count;

    /// <summary>Slots retired because their generation reached the wrap point; they reduce the usable capacity.</summary>
    public int RetiredCount => _retiredCount;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => !_slots.IsAllocated;

    /// <summary>Native bytes the table holds now: the slots committed so far (a page at a time, as the table fills)
    /// and their page directory; 0 once disposed.</summary>
    public long NativeBytes => _slots.CommittedBytes;

    /// <summary>Native bytes the table would hold with every slot committed (<see cref="Capacity"/> slots and the page
    /// directory); 0 once disposed.</summary>
    public long MaxNativeBytes => _slots.ReservedBytes;

    /// <summary>Bytes each slot takes: the 8-byte key plus the entry (with <typeparamref name="T"/>'s padding).</summary>
    public static int BytesPerSlot => sizeof(Slot);

    /// <summary>Allocates an entry initialised to <see langword="default"/>.</summary>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the new entry's handle; otherwise <see langword="default"/>.</param>
    /// <returns>As <see cref="TryAllocate(in T, out Handle{T})"/>.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus TryAllocate(out Handle<T> handle) => TryAllocate(default, out handle);

    /// <summary>Allocates an entry holding <paramref name="value"/>.</summary>
    /// <param name="value">The entry's initial value.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the new entry's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.CapacityExceeded"/> when
    /// <see cref="Capacity"/> entries are live; <see cref="ResourceStatus.OutOfMemory"/> when the next page of slots
    /// could not be allocated. Nothing changes unless the result is <see cref="ResourceStatus.Ok"/>.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory. Reuses the most recently freed slot first.</remarks>
    public ResourceStatus TryAllocate(in T value, out Handle<T> handle)
    {
        if (!_slots.IsAllocated)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        int index = _freeHead;
        uint generation;
        if (index >= 0)
        {
            // SAFETY: the free list only holds indices below _highWater <= _capacity.
            Debug.Assert(index < _highWater, "Free list index beyond the high-water mark.");
            ulong key = _slots.At(index, PageShift)->Key;
            Debug.Assert(HandleLayout.Tag(key) == 0, "A slot on the free list must hold a free key.");
            _freeHead = HandleLayout.Index(key) - 1;
            generation = HandleLayout.Generation(key) + 1; // even (free) -> odd (live); MaxValue is odd and retires, so no wrap
        }
        else if (_highWater < _capacity)
        {
            if (!TryCommitNext())
            {
                handle = default;
                return ResourceStatus.OutOfMemory; // the next page of slots could not be allocated; nothing changed
            }

            index = _highWater++; // SAFETY: index < _slots.Committed, so its page is allocated.
            generation = _baseGeneration + 1; // odd; above every generation an earlier issuer of this tag gave out
        }
        else
        {
            handle = default;
            return ResourceStatus.CapacityExceeded;
        }

        ulong raw = HandleLayout.Pack(_tag, index, generation);
        Slot* slot = _slots.At(index, PageShift);
        slot->Value = value;
        Volatile.Write(ref slot->Key, raw); // after the value: see TryReadConcurrent
        _count++;
        handle = new Handle<T>(raw);
        return ResourceStatus.Ok;
    }

    /// <summary>Makes sure the next <see cref="TryAllocate(in T, out Handle{T})"/> cannot fail for want of memory: commits
    /// the next page of slots if the next entry would need it. For owners that must not fail half-way (the arena).</summary>
    /// <returns>False when the page could not be allocated (nothing changed).</returns>
    internal bool TryCommitNext() =>
        _freeHead >= 0 || _highWater >= _capacity || _highWater < _slots.Committed || _slots.TryCommit(_highWater + 1, _allocator);

    /// <summary>Allocates an entry holding <paramref name="value"/>, throwing if the table is full.</summary>
    /// <param name="value">The entry's initial value.</param>
    /// <returns>The new entry's handle.</returns>
    /// <exception cref="ResourceException">The table is full (<see cref="ResourceStatus.CapacityExceeded"/>).</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public Handle<T> Allocate(in T value = default)
    {
        ThrowHelper.ThrowIfFailed(TryAllocate(value, out Handle<T> handle));
        return handle;
    }

    /// <summary>Frees the entry; every copy of <paramref name="handle"/> becomes stale.</summary>
    /// <param name="handle">A handle this table issued.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>; <see cref="ResourceStatus.StaleHandle"/> if the entry was already freed
    /// (a double free) or the slot reused; <see cref="ResourceStatus.InvalidHandle"/> for the null handle.
    /// Nothing is touched unless the result is <see cref="ResourceStatus.Ok"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another table.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory.</remarks>
    public ResourceStatus Free(Handle<T> handle)
    {
        ulong raw = handle.RawValue;
        int index = HandleLayout.Index(raw);
        if ((uint)index >= (uint)_highWater)
        {
            return Mismatch(raw);
        }

        // SAFETY: index < _highWater <= committed slots; with the key matched, the slot is live and ours.
        Slot* slot = _slots.At(index, PageShift);
        if (slot->Key != raw || !IsLive(raw))
        {
            return Mismatch(raw);
        }
        uint generation = HandleLayout.Generation(raw);
        _count--;
        if (generation == _retireAt)
        {
            // The next generation would wrap to 0 (a compact table: past what a compact handle holds) and, two frees
            // later, reissue an old one: an old handle could then match. Retire the slot instead: key 0 has tag 0, so no
            // handle ever matches it, and it is off the free list.
            slot->Key = 0;
            _retiredCount++;
            return ResourceStatus.Ok;
        }

        slot->Key = FreeKey(generation + 1, _freeHead); // odd (live) -> even (free)
        _freeHead = index;
        return ResourceStatus.Ok;
    }

    /// <summary>For a table whose writers hold a lock its readers do not: a consistent copy of a live entry, read
    /// without the lock. The key is read before and after the value; a slot's key changes whenever it is freed or
    /// reissued, and <see cref="TryAllocate(in T, out Handle{T})"/> writes the value before the key, so an unchanged key
    /// means the copy is the entry that handle was issued with, live at the second read.</summary>
    /// <param name="raw">The handle's raw value.</param>
    /// <param name="value">The copy, when the result is <see langword="true"/>.</param>
    /// <returns><see langword="false"/> when the handle is not live (or was freed while being read): the caller then asks
    /// again under the writers' lock to say why.</returns>
    internal bool TryReadConcurrent(ulong raw, out T value)
    {
        value = default;
        int index = HandleLayout.Index(raw);
        if ((uint)index >= (uint)Volatile.Read(ref _highWater) || !IsLive(raw))
        {
            return false;
        }

        // SAFETY: index < _highWater <= committed slots (pages are committed before _highWater passes them, and never
        // move); the table is live (disposal must not race with other calls).
        Slot* slot = _slots.At(index, PageShift);
        if (Volatile.Read(ref slot->Key) != raw)
        {
            return false;
        }

        value = slot->Value;
        return Volatile.Read(ref slot->Key) == raw;
    }

    /// <summary>Whether the slot of a live handle still holds it (for <see cref="TryReadConcurrent"/>'s callers that read
    /// more behind the entry before trusting it).</summary>
    /// <param name="raw">A handle that <see cref="TryReadConcurrent"/> accepted.</param>
    /// <returns>Whether it is still live.</returns>
    internal bool IsStillLive(ulong raw) => Volatile.Read(ref _slots.At(HandleLayout.Index(raw), PageShift)->Key) == raw;

    /// <summary>Whether <paramref name="handle"/> refers to a live entry of this table.</summary>
    /// <param name="handle">Any handle; a null, stale or foreign handle gives <see langword="false"/>.</param>
    /// <returns><see langword="true"/> only for a live entry of this table.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public bool Contains(Handle<T> handle)
    {
        if (!_slots.IsAllocated)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        ulong raw = handle.RawValue;
        int index = HandleLayout.Index(raw);
        return (uint)index < (uint)_highWater && _slots.At(index, PageShift)->Key == raw && IsLive(raw);
    }

    /// <summary>Returns a reference to the entry, or a null reference if the handle is null or stale.</summary>
    /// <param name="handle">A handle this table issued.</param>
    /// <returns>The entry, valid until it is freed or the table disposed; test it with
    /// <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another table.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1): one bounds check and one 64-bit compare of the handle against the key its slot was issued
    /// with (issuer, slot and generation at once); allocates nothing. The fastest checked lookup.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T GetValueRefOrNullRef(Handle<T> handle)
    {
        ulong raw = handle.RawValue;
        int index = HandleLayout.Index(raw);

        // SAFETY: index < _highWater <= the committed slots of a live table (a disposed table has _highWater 0). A live
        // slot's key is the exact handle it was issued with; free and retired keys have tag 0, which no issued handle
        // has (the IsLive test turns away a forged tag-0 value), so a match means live, ours, and this generation.
        if ((uint)index < (uint)_highWater)
        {
            Slot* slot = _slots.At(index, PageShift);
            if (slot->Key == raw && IsLive(raw))
            {
                return ref slot->Value;
            }
        }

        return ref LookupMismatch(raw);
    }

    /// <summary>Returns a reference to a live entry.</summary>
    /// <param name="handle">A handle this table issued.</param>
    /// <returns>The entry, valid until it is freed or the table disposed.</returns>
    /// <exception cref="ResourceException">The handle is stale (<see cref="ResourceStatus.StaleHandle"/>) or null
    /// (<see cref="ResourceStatus.InvalidHandle"/>).</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another table.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public ref T Get(Handle<T> handle)
    {
        ref T value = ref GetValueRefOrNullRef(handle);
        if (Unsafe.IsNullRef(ref value))
        {
            ThrowHelper.ThrowResourceException(handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle);
        }

        return ref value;
    }

    /// <summary>Copies out a live entry's value.</summary>
    /// <param name="handle">A handle this table issued.</param>
    /// <param name="value">On <see cref="ResourceStatus.Ok"/>, the entry's value; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another table.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public ResourceStatus TryGet(Handle<T> handle, out T value)
    {
        ref T entry = ref GetValueRefOrNullRef(handle);
        if (Unsafe.IsNullRef(ref entry))
        {
            value = default;
            return handle.IsNull ? ResourceStatus.InvalidHandle : ResourceStatus.StaleHandle;
        }

        value = entry;
        return ResourceStatus.Ok;
    }

    /// <summary>Frees every live entry; every handle issued so far becomes stale.</summary>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(high-water mark). Retired slots stay retired.</remarks>
    public void Clear()
    {
        if (!_slots.IsAllocated)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        for (int index = _highWater - 1; index >= 0; index--)
        {
            ulong key = _slots.At(index, PageShift)->Key;
            if (IsLive(key))
            {
                Free(new Handle<T>(key));
            }
        }

        Debug.Assert(_count == 0, "Clear must leave no live entry.");
    }

    /// <summary>Frees the native slots and gives up the table's tag; later use throws. Idempotent.</summary>
    /// <remarks>Live entries are dropped without notice: entries are plain values with nothing to release.</remarks>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    /// <summary>A live slot's key is its issued handle: tag bits non-zero. Free and retired keys have tag 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLive(ulong key) => (key & HandleLayout.TagMask) != 0;

    /// <summary>The key of a free slot: its (even) generation, and the next free index plus one where a handle keeps
    /// its index, with tag 0 so no issued handle can equal it.</summary>
    private static ulong FreeKey(uint evenGeneration, int nextFree)
    {
        Debug.Assert((evenGeneration & 1) == 0, "Free generations are even.");
        Debug.Assert(nextFree + 1 < HandleLayout.MaxSlots, "Next-free link out of range.");
        return ((ulong)evenGeneration << 32) | ((uint)(nextFree + 1) << HandleLayout.TagBits);
    }

    private void Release()
    {
        if (!_slots.IsAllocated)
        {
            return;
        }

        uint highest = HighestGeneration(_highWater);
        _highWater = 0; // every index is now out of range, so the fast paths fall to the disposed checks
        _freeHead = -1;
        _slots.Free(_allocator); // or forgets them, when the allocator's backing is gone

        HandleTagAllocator.Return(_tag, highest);
    }

    /// <summary>The highest generation any slot below <paramref name="highWater"/> was issued with, or will be next
    /// (a free slot's key holds its next, even generation); <see cref="uint.MaxValue"/> if a slot was retired.</summary>
    private uint HighestGeneration(int highWater)
    {
        if (!_allocator.AllocationsReadable)
        {
            // Finalizing after the region our slots were carved from: they cannot be read, so the tag is retired.
            return uint.MaxValue;
        }

        uint highest = _baseGeneration;
        for (int i = 0; i < highWater; i++)
        {
            ulong key = _slots.At(i, PageShift)->Key;
            if (key == 0)
            {
                if (_retireAt == uint.MaxValue)
                {
                    return uint.MaxValue; // retired at the wrap point: every generation of this tag has been used
                }

                highest = Math.Max(highest, _retireAt); // a compact table's slot, retired at its last compact generation
                continue;
            }

            highest = Math.Max(highest, HandleLayout.Generation(key));
        }

        return highest;
    }

    private struct Slot
    {
        public ulong Key; // Live: the handle issued for this slot. Free: FreeKey(generation, next). Retired: 0.
        public T Value;
    }
}
