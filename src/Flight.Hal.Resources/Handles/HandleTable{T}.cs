using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A generational slot map over native memory: O(1) allocate, free and lookup by <see cref="Handle{T}"/>.</summary>
/// <typeparam name="T">The entry type, stored inline in native memory.</typeparam>
/// <remarks>
/// <para><b>Memory.</b> All <see cref="Capacity"/> slots (8 bytes of generation and free-list link plus
/// <c>sizeof(T)</c>, each) are reserved in one native block at construction through the
/// <see cref="NativeAllocator"/>; slots are first touched when first used, so untouched capacity costs address
/// space, not resident memory. Nothing is allocated on the GC heap after construction. The block never moves,
/// so a <c>ref T</c> stays valid until its entry is freed or the table disposed.</para>
/// <para><b>Handles.</b> Freeing an entry advances its slot's generation, so every older handle is detected as
/// stale — always, in every build. A slot whose 32-bit generation would wrap is retired and never reused, so a
/// stale handle can never match a later entry (no ABA); <see cref="RetiredCount"/> counts such slots. A handle
/// from another live table is rejected with an <see cref="ArgumentException"/>.</para>
/// <para><b>Threads.</b> Instances are not thread-safe: use one per thread or synchronise externally. Concurrent
/// lookups are safe while no thread allocates or frees.</para>
/// </remarks>
public sealed unsafe class HandleTable<T> : IDisposable
    where T : unmanaged
{
    /// <summary>Largest capacity: the number of slot indices a handle can address (4,194,304).</summary>
    public const int MaxCapacity = HandleLayout.MaxSlots;

    private const nuint SlotsAlignment = 64; // One cache line: slot 0 starts a line.

    private Slot* _slots;                 // Owned; Capacity slots. Null once disposed.
    private readonly nuint _byteCount;    // Size of the _slots block, computed checked in the constructor.
    private readonly NativeAllocator _allocator;
    private readonly int _capacity;       // 1..MaxCapacity.
    private readonly int _tag;            // 1..HandleLayout.MaxTag; 0 once disposed (returned to HandleTagAllocator).
    private int _highWater;               // Slots [0, _highWater) have been used at least once; the rest are fresh.
    private int _freeHead = -1;           // LIFO free list through Slot.NextFree; -1 when empty.
    private int _count;                   // Live entries: slots below _highWater with an odd generation.
    private int _retiredCount;            // Slots whose generation wrapped; never on the free list again.

    /// <summary>Creates a table that can hold up to <paramref name="capacity"/> live entries.</summary>
    /// <param name="capacity">1 to <see cref="MaxCapacity"/>.</param>
    /// <param name="allocator">Where the slots come from; <see cref="NativeAllocator.Default"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is out of range.</exception>
    /// <exception cref="OutOfMemoryException">The allocator could not provide the slots; nothing is leaked.</exception>
    /// <exception cref="InvalidOperationException">1,023 tables and pools are alive already.</exception>
    public HandleTable(int capacity, NativeAllocator? allocator = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _allocator = allocator ?? NativeAllocator.Default;
        _capacity = capacity;
        _byteCount = checked((nuint)capacity * (nuint)sizeof(Slot));
        _slots = (Slot*)_allocator.TryAllocate(_byteCount, SlotsAlignment);
        if (_slots == null)
        {
            GC.SuppressFinalize(this);
            throw new OutOfMemoryException($"Could not allocate {_byteCount} bytes for a handle table of {capacity} slots.");
        }

        _tag = HandleTagAllocator.Rent();
    }

    /// <summary>Frees the native slots if the table was never disposed.</summary>
    ~HandleTable() => Release();

    /// <summary>The most live entries the table can hold at once.</summary>
    public int Capacity => _capacity;

    /// <summary>Live entries.</summary>
    public int Count => _count;

    /// <summary>Slots retired because their generation reached the wrap point; they reduce the usable capacity.</summary>
    public int RetiredCount => _retiredCount;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => _slots == null;

    /// <summary>Native bytes the table holds (all slots, reserved at construction); 0 once disposed.</summary>
    public long NativeBytes => _slots == null ? 0 : (long)_byteCount;

    /// <summary>Allocates an entry initialised to <see langword="default"/>.</summary>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the new entry's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.CapacityExceeded"/>.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ResourceStatus TryAllocate(out Handle<T> handle) => TryAllocate(default, out handle);

    /// <summary>Allocates an entry holding <paramref name="value"/>.</summary>
    /// <param name="value">The entry's initial value.</param>
    /// <param name="handle">On <see cref="ResourceStatus.Ok"/>, the new entry's handle; otherwise <see langword="default"/>.</param>
    /// <returns><see cref="ResourceStatus.Ok"/> or <see cref="ResourceStatus.CapacityExceeded"/>.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1); allocates no managed memory. Reuses the most recently freed slot first.</remarks>
    public ResourceStatus TryAllocate(in T value, out Handle<T> handle)
    {
        Slot* slots = _slots;
        if (slots == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        int index = _freeHead;
        Slot* slot;
        if (index >= 0)
        {
            // SAFETY: the free list only ever holds indices below _highWater <= _capacity.
            Debug.Assert(index < _highWater, "Free list index beyond the high-water mark.");
            slot = slots + index;
            Debug.Assert((slot->Generation & 1) == 0, "A slot on the free list must have an even (free) generation.");
            _freeHead = slot->NextFree;
        }
        else if (_highWater < _capacity)
        {
            index = _highWater++;
            // SAFETY: index < _capacity, the number of slots allocated. A fresh slot has never been written.
            slot = slots + index;
            slot->Generation = 0;
        }
        else
        {
            handle = default;
            return ResourceStatus.CapacityExceeded;
        }

        uint generation = slot->Generation + 1; // even (free) -> odd (live); never wraps: MaxValue is odd and retires.
        slot->Generation = generation;
        slot->NextFree = -1;
        slot->Value = value;
        _count++;
        handle = new Handle<T>(HandleLayout.Pack(_tag, index, generation));
        return ResourceStatus.Ok;
    }

    /// <summary>Allocates an entry holding <paramref name="value"/>, throwing if the table is full.</summary>
    /// <param name="value">The entry's initial value.</param>
    /// <returns>The new entry's handle.</returns>
    /// <exception cref="ResourceException">The table is full (<see cref="ResourceStatus.CapacityExceeded"/>).</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public Handle<T> Allocate(in T value = default)
    {
        ResourceStatus status = TryAllocate(value, out Handle<T> handle);
        if (status != ResourceStatus.Ok)
        {
            ThrowHelper.ThrowResourceException(status);
        }

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
        Slot* slot = FindSlot(handle.RawValue, out ResourceStatus status);
        if (slot == null)
        {
            return status;
        }

        uint generation = slot->Generation;
        Debug.Assert((generation & 1) == 1, "FindSlot returns live slots only.");
        _count--;
        if (generation == uint.MaxValue)
        {
            // The next generation would wrap to 0 and, two frees later, reissue 1: an old handle could then match.
            // Retire the slot instead. 0 is even (not live) and no issued handle has generation 0.
            slot->Generation = 0;
            _retiredCount++;
            return ResourceStatus.Ok;
        }

        slot->Generation = generation + 1; // odd (live) -> even (free)
        int index = (int)(slot - _slots);
        slot->NextFree = _freeHead;
        _freeHead = index;
        return ResourceStatus.Ok;
    }

    /// <summary>Whether <paramref name="handle"/> refers to a live entry of this table.</summary>
    /// <param name="handle">Any handle; a null, stale or foreign handle gives <see langword="false"/>.</param>
    /// <returns><see langword="true"/> only for a live entry of this table.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    public bool Contains(Handle<T> handle)
    {
        Slot* slots = _slots;
        if (slots == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        ulong raw = handle.RawValue;
        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        return HandleLayout.Tag(raw) == _tag
            && (uint)index < (uint)_highWater
            && (generation & 1) == 1
            && slots[index].Generation == generation;
    }

    /// <summary>Returns a reference to the entry, or a null reference if the handle is null or stale.</summary>
    /// <param name="handle">A handle this table issued.</param>
    /// <returns>The entry, valid until it is freed or the table disposed; test it with
    /// <see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another table.</exception>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(1): one bounds check and one generation compare; allocates nothing. The fastest checked lookup.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref T GetValueRefOrNullRef(Handle<T> handle)
    {
        ulong raw = handle.RawValue;
        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        Slot* slots = _slots;
        if (HandleLayout.Tag(raw) != _tag || slots == null)
        {
            return ref LookupMismatch(raw);
        }

        // SAFETY: index < _highWater <= _capacity, the slot count of the live block _slots.
        if ((uint)index < (uint)_highWater)
        {
            Slot* slot = slots + index;
            if (slot->Generation == generation && (generation & 1) == 1)
            {
                return ref slot->Value;
            }
        }

        return ref Unsafe.NullRef<T>();
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
        Slot* slot = FindSlot(handle.RawValue, out ResourceStatus status);
        value = slot == null ? default : slot->Value;
        return status;
    }

    /// <summary>Frees every live entry; every handle issued so far becomes stale.</summary>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(high-water mark). Retired slots stay retired.</remarks>
    public void Clear()
    {
        Slot* slots = _slots;
        if (slots == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        for (int index = _highWater - 1; index >= 0; index--)
        {
            uint generation = slots[index].Generation;
            if ((generation & 1) == 1)
            {
                Free(new Handle<T>(HandleLayout.Pack(_tag, index, generation)));
            }
        }

        Debug.Assert(_count == 0, "Clear must leave no live entry.");
    }

    /// <summary>Enumerates the live entries in slot order.</summary>
    /// <returns>An allocation-free enumerator.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(high-water mark). Freeing the current entry during enumeration is allowed; an entry allocated
    /// during enumeration may or may not be visited.</remarks>
    public Enumerator GetEnumerator()
    {
        if (_slots == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        return new Enumerator(this);
    }

    /// <summary>Frees the native slots and gives up the table's tag; later use throws. Idempotent.</summary>
    /// <remarks>Live entries are dropped without notice: entries are plain values with nothing to release.</remarks>
    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        Slot* slots = _slots;
        if (slots == null)
        {
            return;
        }

        _slots = null;
        _allocator.Free(slots, _byteCount, SlotsAlignment);
        HandleTagAllocator.Return(_tag);
    }

    /// <summary>Test hook: moves a live entry's slot to <paramref name="generation"/> (odd) so the wrap point can be
    /// reached without four billion frees; the entry's old handles become stale.</summary>
    internal Handle<T> SetGenerationForTesting(Handle<T> handle, uint generation)
    {
        Debug.Assert((generation & 1) == 1, "Live generations are odd.");
        Slot* slot = FindSlot(handle.RawValue, out ResourceStatus status);
        if (slot == null)
        {
            ThrowHelper.ThrowResourceException(status);
        }

        slot->Generation = generation;
        return new Handle<T>(HandleLayout.Pack(_tag, handle.Index, generation));
    }

    /// <summary>Validates a handle fully and returns its live slot, or null with the reason.</summary>
    private Slot* FindSlot(ulong raw, out ResourceStatus status)
    {
        Slot* slots = _slots;
        if (slots == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        if (raw == 0)
        {
            status = ResourceStatus.InvalidHandle;
            return null;
        }

        if (HandleLayout.Tag(raw) != _tag)
        {
            ThrowHelper.ThrowForeignHandle("handle");
        }

        int index = HandleLayout.Index(raw);
        uint generation = HandleLayout.Generation(raw);
        if ((uint)index >= (uint)_highWater || (generation & 1) == 0 || slots[index].Generation != generation)
        {
            status = ResourceStatus.StaleHandle;
            return null;
        }

        status = ResourceStatus.Ok;
        return slots + index;
    }

    /// <summary>The slow path of <see cref="GetValueRefOrNullRef"/>: disposed, null or foreign.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ref T LookupMismatch(ulong raw)
    {
        if (_slots == null)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        if (raw != 0)
        {
            ThrowHelper.ThrowForeignHandle("handle");
        }

        return ref Unsafe.NullRef<T>();
    }

    /// <summary>One live entry seen during enumeration.</summary>
    public readonly ref struct Entry
    {
        private readonly ref T _value;

        internal Entry(Handle<T> handle, ref T value)
        {
            Handle = handle;
            _value = ref value;
        }

        /// <summary>The entry's handle.</summary>
        public Handle<T> Handle { get; }

        /// <summary>The entry's value, writable in place.</summary>
        public ref T Value => ref _value;
    }

    /// <summary>Walks the live entries of a <see cref="HandleTable{T}"/> in slot order without allocating.</summary>
    public ref struct Enumerator
    {
        private readonly HandleTable<T> _table;
        private int _index;

        internal Enumerator(HandleTable<T> table)
        {
            _table = table;
            _index = -1;
        }

        /// <summary>The current live entry.</summary>
        public readonly Entry Current
        {
            get
            {
                // SAFETY: MoveNext only stops on an index below _highWater of a table that was live then.
                Slot* slot = _table._slots + _index;
                Debug.Assert(_table._slots != null, "Table disposed during enumeration.");
                return new Entry(new Handle<T>(HandleLayout.Pack(_table._tag, _index, slot->Generation)), ref slot->Value);
            }
        }

        /// <summary>Advances to the next live entry.</summary>
        /// <returns><see langword="false"/> after the last one.</returns>
        /// <exception cref="ObjectDisposedException">The table was disposed during enumeration.</exception>
        public bool MoveNext()
        {
            Slot* slots = _table._slots;
            if (slots == null)
            {
                ThrowHelper.ThrowObjectDisposed(_table);
            }

            int highWater = _table._highWater;
            while (++_index < highWater)
            {
                if ((slots[_index].Generation & 1) == 1)
                {
                    return true;
                }
            }

            _index = highWater;
            return false;
        }
    }

    private struct Slot
    {
        public uint Generation; // Odd: live. Even: free (or fresh at 0). 0 after retirement, and then off the free list.
        public int NextFree;    // Next free slot index, -1 at the end of the list; -1 while live.
        public T Value;
    }
}
