using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>An array of up to a fixed capacity of <typeparamref name="T"/> in native memory that is committed a page at
/// a time as it fills, so bookkeeping costs what is used, not what might be: the store behind handle-table slots and
/// arena block records. Items never move once committed, so a pointer to one stays valid until <see cref="Free"/>.</summary>
/// <remarks>
/// <para>A directory of page pointers is allocated up front (8 bytes per page; at most <see cref="MaxPages"/> entries when
/// the store picks its page size); pages are allocated by <see cref="TryCommit"/>. An item is reached with a shift, a
/// mask and one directory load.</para>
/// <para>Not thread-safe for commits: the owner commits under its own exclusion. A reader on another thread that sees an
/// index published after its commit (a volatile high-water mark, say) sees the page: the directory entry is written
/// with release semantics before the commit returns. Pages are freed only by <see cref="Free"/>.</para>
/// <para>A mutable struct held in a field of its owner (never copied).</para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
internal unsafe struct NativePages<T>
    where T : unmanaged
{
    /// <summary>Most directory entries: a store of any capacity has pages large enough to fit in this many.</summary>
    public const int MaxPages = 512;

    private const int TargetPageBytes = 4 * 1024; // A small store's page: a few KiB, so a store used a little costs a little.
    private const nuint PageAlignment = 128;      // Two cache lines: the adjacent-line prefetcher fetches aligned pairs.

    private T** _directory;   // MaxPages or fewer entries; entry i is page i or null.
    private int _pageShift;   // Items per page = 1 << _pageShift.
    private int _capacity;    // Items the store may hold.
    private int _committed;   // Items [0, _committed) are in allocated pages.
    private int _pageCount;   // Directory entries: ceil(_capacity / items per page).

    /// <summary>Items that may be committed.</summary>
    public readonly int Capacity => _capacity;

    /// <summary>Items in allocated pages: indices below this are usable.</summary>
    public readonly int Committed => _committed;

    /// <summary>Whether the store is live (initialised and not freed).</summary>
    public readonly bool IsAllocated => _directory != null;

    /// <summary>Native bytes held now: the directory and the committed pages.</summary>
    public readonly long CommittedBytes =>
        _directory == null ? 0 : DirectoryBytes + ((long)_committed * sizeof(T));

    /// <summary>Native bytes the store would hold at capacity.</summary>
    public readonly long ReservedBytes =>
        _directory == null ? 0 : DirectoryBytes + ((long)_capacity * sizeof(T));

    /// <summary>Items per page.</summary>
    public readonly int ItemsPerPage => 1 << _pageShift;

    private readonly long DirectoryBytes => (long)_pageCount * sizeof(nint);

    /// <summary>Allocates the directory (no page yet).</summary>
    /// <param name="capacity">Items the store may hold, at least 1.</param>
    /// <param name="allocator">Where the directory and pages come from.</param>
    /// <returns>False when the directory could not be allocated (nothing is held).</returns>
    public bool TryInitialize(int capacity, NativeAllocator allocator)
    {
        // Pages of about TargetPageBytes, larger when the capacity would need more than MaxPages of them, and never
        // larger than the capacity rounded up to a power of two (a small store is one page of exactly its size).
        int shift = BitOperations.Log2((uint)Math.Max(1, TargetPageBytes / sizeof(T)));
        int needed = BitOperations.Log2(BitOperations.RoundUpToPowerOf2((uint)capacity));
        shift = Math.Max(shift, needed - BitOperations.Log2(MaxPages));
        shift = Math.Min(shift, needed);
        return TryInitialize(capacity, allocator, shift);
    }

    /// <summary>Allocates the directory (no page yet) for pages of a fixed <c>1 &lt;&lt; pageShift</c> items: for a hot
    /// owner that passes the same constant to <see cref="At(int, int)"/>, so the page arithmetic compiles to
    /// immediates and a lookup costs one directory load more than a flat array.</summary>
    /// <param name="capacity">Items the store may hold, at least 1.</param>
    /// <param name="allocator">Where the directory and pages come from.</param>
    /// <param name="pageShift">Log2 of the items per page, 0 to 20. The last page holds only what the capacity needs.</param>
    /// <returns>False when the directory could not be allocated (nothing is held).</returns>
    public bool TryInitialize(int capacity, NativeAllocator allocator, int pageShift)
    {
        Debug.Assert(capacity > 0 && _directory == null, "Initialised once, with a capacity.");
        Debug.Assert(pageShift is >= 0 and <= 20, "Page shift out of range.");
        int shift = pageShift;
        int pages = (int)(((long)capacity + (1L << shift) - 1) >> shift);

        T** directory = (T**)allocator.TryAllocate((nuint)pages * (nuint)sizeof(nint), PageAlignment);
        if (directory == null)
        {
            return false;
        }

        new Span<nint>(directory, pages).Clear();
        _directory = directory;
        _pageShift = shift;
        _capacity = capacity;
        _pageCount = pages;
        _committed = 0;
        return true;
    }

    /// <summary>The item at <paramref name="index"/>, which must be below <see cref="Committed"/>.</summary>
    /// <param name="index">The item.</param>
    /// <returns>A pointer to it, valid until <see cref="Free"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T* At(int index)
    {
        // SAFETY: callers pass index < _committed, so page index >> _pageShift is allocated and in the directory.
        Debug.Assert((uint)index < (uint)_capacity, "Item index beyond the capacity.");
        Debug.Assert(_directory[index >> _pageShift] != null, "Item in a page not committed.");
        return _directory[index >> _pageShift] + (index & ((1 << _pageShift) - 1));
    }

    /// <summary>The item at <paramref name="index"/> of a store initialised with this constant
    /// <paramref name="pageShift"/>; <paramref name="index"/> must be below <see cref="Committed"/>.</summary>
    /// <param name="index">The item.</param>
    /// <param name="pageShift">The shift given to <see cref="TryInitialize(int, NativeAllocator, int)"/>.</param>
    /// <returns>A pointer to it, valid until <see cref="Free"/>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly T* At(int index, int pageShift)
    {
        // SAFETY: as At(int); the caller's constant is the store's shift.
        Debug.Assert(pageShift == _pageShift, "The store's own page shift.");
        Debug.Assert((uint)index < (uint)_capacity, "Item index beyond the capacity.");
        return _directory[index >> pageShift] + (index & ((1 << pageShift) - 1));
    }

    /// <summary>Commits pages until at least <paramref name="count"/> items are usable.</summary>
    /// <param name="count">Items wanted, at most <see cref="Capacity"/>.</param>
    /// <param name="allocator">The allocator the store was initialised with.</param>
    /// <returns>False when a page could not be allocated: what was committed stays, and nothing else changed.</returns>
    public bool TryCommit(int count, NativeAllocator allocator)
    {
        Debug.Assert(_directory != null && count <= _capacity, "Commit within the capacity of a live store.");
        while (_committed < count)
        {
            int page = _committed >> _pageShift;
            int items = Math.Min(1 << _pageShift, _capacity - _committed);
            T* memory = (T*)allocator.TryAllocate((nuint)items * (nuint)sizeof(T), PageAlignment);
            if (memory == null)
            {
                return false;
            }

            Volatile.Write(ref *(nint*)(_directory + page), (nint)memory);
            _committed += items;
        }

        return true;
    }

    /// <summary>Frees every page and the directory; the store is then unallocated. Idempotent. When the allocator's own
    /// backing is gone (<see cref="NativeAllocator.AllocationsReadable"/> false: an owner finalized after the arena its
    /// pages were carved from), the pages went with it: they are forgotten, neither read nor freed.</summary>
    /// <param name="allocator">The allocator the store was initialised with (unused when nothing is allocated).</param>
    public void Free(NativeAllocator allocator)
    {
        T** directory = _directory;
        if (directory == null)
        {
            return;
        }

        _directory = null;
        if (!allocator.AllocationsReadable)
        {
            _committed = 0;
            return;
        }

        for (int page = 0; page < _pageCount; page++)
        {
            T* memory = directory[page];
            if (memory != null)
            {
                int items = Math.Min(1 << _pageShift, _capacity - (page << _pageShift));
                allocator.Free(memory, (nuint)items * (nuint)sizeof(T), PageAlignment);
            }
        }

        allocator.Free(directory, (nuint)_pageCount * (nuint)sizeof(nint), PageAlignment);
        _committed = 0;
    }
}
