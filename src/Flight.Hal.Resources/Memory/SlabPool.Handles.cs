using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Handle checks: which handles name a rented block of this pool (one check, HasRentedShape, that every entry starts
// with), why the others do not (null, stale, or foreign, which throws), and what is built on that: resolving,
// Contains, and the resource manager's unchecked resolve, claims and walk over rented blocks.
public sealed unsafe partial class SlabPool
{
    private int _acceptedTag;                // _tag while live; -1 once disposed, so the fast paths need no disposed check.
    private int _publicTag;                  // What the public Return accepts at once: _tag, or -1 when disposed or claimed.
    private IBlockClaims? _claims;           // Set when a ResourceManager owns the pool: blocks it hands out as resources.

    /// <summary>Whether <paramref name="handle"/> refers to a block of this pool that is rented now.</summary>
    /// <param name="handle">Any handle; null, stale or foreign handles give <see langword="false"/>.</param>
    /// <returns><see langword="true"/> only for a currently rented block of this pool.</returns>
    public bool Contains(ResourceHandle handle) => IsRented(handle.RawValue);

    /// <summary>Resolves a handle to its block's memory.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <param name="span">On <see cref="ResourceStatus.Ok"/>, the whole block (<see cref="BlockSize"/> bytes);
    /// otherwise empty.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or
    /// <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>The span is valid until the block is returned or the pool disposed.</remarks>
    public ResourceStatus TryGetSpan(ResourceHandle handle, out Span<byte> span)
    {
        ThrowIfDisposed();
        ResourceStatus status = TryGetBlock(handle.RawValue, out byte* block);
        span = status == ResourceStatus.Ok ? new Span<byte>(block, _blockSize) : default;
        return status;
    }

    /// <summary>Resolves a handle to its block's memory, throwing if it is not rented.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <returns>The whole block (<see cref="BlockSize"/> bytes), valid until it is returned or the pool disposed.</returns>
    /// <exception cref="ResourceException">The handle is stale or null.</exception>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    public Span<byte> GetSpan(ResourceHandle handle)
    {
        ThrowHelper.ThrowIfFailed(TryGetSpan(handle, out Span<byte> span));
        return span;
    }

    /// <summary>Resolves a handle to its block's address, for native code.</summary>
    /// <param name="handle">A handle this pool issued.</param>
    /// <param name="address">On <see cref="ResourceStatus.Ok"/>, the block's address (aligned to
    /// <see cref="Alignment"/>); otherwise 0.</param>
    /// <returns><see cref="ResourceStatus.Ok"/>, <see cref="ResourceStatus.StaleHandle"/> or
    /// <see cref="ResourceStatus.InvalidHandle"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="handle"/> was issued by another pool or table.</exception>
    /// <exception cref="ObjectDisposedException">The pool has been disposed.</exception>
    /// <remarks>The address is valid until the block is returned or the pool disposed; it is not tracked after that.</remarks>
    public ResourceStatus TryResolve(ResourceHandle handle, out nint address)
    {
        ThrowIfDisposed();
        ResourceStatus status = TryGetBlock(handle.RawValue, out byte* block);
        address = (nint)block;
        return status;
    }

    /// <summary>Every generation this pool issues is above this (even) value; a handle with this pool's tag and a
    /// generation at or below it comes from a disposed pool that had the same tag.</summary>
    internal uint BaseGeneration => _baseGeneration;

    /// <summary>The blocks a resource manager hands out as resources; once set, the public
    /// <see cref="Return"/> refuses them (they are released through the manager). Set once, before the pool is shared.</summary>
    internal IBlockClaims? Claims
    {
        get => _claims;
        set
        {
            Debug.Assert(_claims == null && value != null, "Claims are set once.");
            _claims = value;
            _publicTag = -1; // every public Return now takes the checked path in ReturnRefused
        }
    }

    /// <summary>Whether <paramref name="raw"/> is a handle of this pool whose block is rented under that generation now.</summary>
    /// <remarks>No exception for foreign, null or disposed: all are simply not rented.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool IsRented(ulong raw) =>
        HasRentedShape(raw, _acceptedTag, out int index, out uint generation)
        && Volatile.Read(ref _generations[index]) == generation;

    /// <summary>Why a handle of this pool's tag that <see cref="IsRented"/> refused is not rented:
    /// <see cref="ResourceStatus.StaleHandle"/> when this pool issued exactly that handle once (the block was returned
    /// since), else <see cref="ResourceStatus.InvalidHandle"/> (never issued here: forged, or a disposed pool's).</summary>
    internal ResourceStatus ClassifyNotRented(ulong raw)
    {
        // The accepted tag is -1 once disposed; a generation at or below the base is a disposed pool's that had this tag.
        if (!HasRentedShape(raw, _acceptedTag, out int index, out uint generation) || generation <= _baseGeneration)
        {
            return ResourceStatus.InvalidHandle;
        }

        // A block below _bumpIndex was rented at least once, so its generation is above the base, or 0 once retired (every
        // generation up to the wrap was issued). Rented: odd, the last issued; free: even, one past it.
        uint current = Volatile.Read(ref _generations[index]);
        uint lastIssued = current == 0 ? uint.MaxValue : (current & 1) == 1 ? current : current - 1;
        return generation <= lastIssued ? ResourceStatus.StaleHandle : ResourceStatus.InvalidHandle;
    }

    /// <summary>The address of the block behind a handle <see cref="IsRented"/> accepted.</summary>
    /// <remarks>Undefined for any other handle: the caller must have checked.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal nint AddressOfRentedUnchecked(ulong raw) => (nint)BlockAddress(HandleLayout.Index(raw));

    /// <summary>Blocks ever handed out; indices below it may be rented.</summary>
    internal int IssuedCount => Volatile.Read(ref _bumpIndex);

    /// <summary>Block <paramref name="index"/>'s generation now (odd: rented; even: free; 0: retired or never used), or
    /// 0 once the pool is disposed.</summary>
    internal uint GenerationAt(int index) =>
        _disposed || (uint)index >= (uint)Volatile.Read(ref _bumpIndex) ? 0 : Volatile.Read(ref _generations[index]);

    /// <summary>The handle of block <paramref name="index"/> if it is rented now, else <see langword="default"/>.</summary>
    internal ResourceHandle RentedHandleAt(int index)
    {
        if (_disposed || (uint)index >= (uint)Volatile.Read(ref _bumpIndex))
        {
            return default;
        }

        uint generation = Volatile.Read(ref _generations[index]);
        return (generation & 1) == 1 ? new ResourceHandle(HandleLayout.Pack(_tag, index, generation)) : default;
    }

    /// <summary>Test hook: sets a rented block's generation (odd), returning the block's new handle, so the wrap
    /// point can be reached without four billion returns.</summary>
    internal ResourceHandle SetGenerationForTesting(ResourceHandle handle, uint generation)
    {
        Debug.Assert((generation & 1) == 1, "Live generations are odd.");
        Debug.Assert(generation > _baseGeneration, "Issued generations lie above the base (HasRentedShape relies on it).");
        ThrowHelper.ThrowIfFailed(TryGetBlock(handle.RawValue, out _));

        _generations[handle.Index] = generation;
        return new ResourceHandle(HandleLayout.Pack(_tag, handle.Index, generation));
    }

    /// <summary>The one handle check, that every return, lookup and <see cref="IsRented"/> starts with: whether
    /// <paramref name="raw"/> has the shape of a rented block's handle under <paramref name="acceptedTag"/> — that tag, an
    /// odd generation, an index some rent has reached — and if so which block and generation it names. Reads no
    /// generation: the caller compares (or compare-and-swaps) the block's own, and on any refusal a slow path
    /// (<see cref="NotRented"/>, <see cref="ReturnRefused"/>) says why, so statuses and exceptions are decided in one
    /// place each.</summary>
    /// <remarks>No test against the base generation, so the hot paths pay for none: no block ever holds an odd generation
    /// at or below the base (a fresh block holds the even base, a retired one 0), so such a handle fails the caller's
    /// generation compare, and <see cref="NotRented"/> then rejects it as a disposed pool's.</remarks>
    /// <param name="raw">Any handle value.</param>
    /// <param name="acceptedTag">The tag to accept: this pool's, or -1 to refuse everything (disposed, or a claimed pool's
    /// public path).</param>
    /// <param name="index">The block the handle names (meaningful only on <see langword="true"/>).</param>
    /// <param name="generation">The generation the handle claims.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool HasRentedShape(ulong raw, int acceptedTag, out int index, out uint generation)
    {
        index = HandleLayout.Index(raw);
        generation = HandleLayout.Generation(raw);
        return HandleLayout.Tag(raw) == acceptedTag
            && (generation & 1) == 1
            && (uint)index < (uint)Volatile.Read(ref _bumpIndex);
    }

    /// <summary>Full validation for lookups: a rented block of this pool, or the reason it is not.</summary>
    private ResourceStatus TryGetBlock(ulong raw, out byte* block)
    {
        if (HasRentedShape(raw, _tag, out int index, out uint generation) && Volatile.Read(ref _generations[index]) == generation)
        {
            block = BlockAddress(index);
            return ResourceStatus.Ok;
        }

        block = null;
        return NotRented(raw);
    }

    /// <summary>Why a handle that is not a rented block of this pool is not: <see cref="ResourceStatus.InvalidHandle"/>
    /// for the null handle; an <see cref="ArgumentException"/> for another issuer's, or a disposed pool's that had this tag
    /// (its generation is at or below the base); else <see cref="ResourceStatus.StaleHandle"/> (returned since, or never
    /// rented under that generation).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus NotRented(ulong raw) => HandleLayout.ClassifyMiss(raw, _tag, _baseGeneration);

    /// <summary>The slow path of a return that <see cref="HasRentedShape"/> refused. With the accepted tag, the handle is
    /// stale or a disposed pool's (<see cref="NotRented"/>). Otherwise the pool is disposed, or the handle null or foreign,
    /// or it is a public <see cref="Return"/> to a pool a resource manager owns (whose resources must be released through
    /// it).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private ResourceStatus ReturnRefused(ulong raw, int acceptedTag)
    {
        if (HandleLayout.Tag(raw) == acceptedTag)
        {
            return NotRented(raw); // a tag was accepted, so the pool is live and the handle not null
        }

        ThrowIfDisposed();
        if (HandleLayout.Tag(raw) == _tag && _claims != null)
        {
            if (_claims.IsClaimed(raw))
            {
                ThrowHelper.ThrowArgument(
                    "handle", "The handle is a ResourceManager's resource: release it with ResourceManager.Release, not through its pool.");
            }

            return ReturnCore(raw, _acceptedTag, toShared: false, locals: null); // a block rented around the manager, returned the same way
        }

        return NotRented(raw); // another tag: the null handle (invalid), or another issuer's (throws)
    }
}
