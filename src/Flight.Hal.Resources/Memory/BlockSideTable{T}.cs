using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

/// <summary>A fixed native array of one <typeparamref name="T"/> per block of a <see cref="SlabPool"/>, indexed by the
/// block's handle index, for records the pool's owner keeps beside each block (the manager's per-resource record).</summary>
/// <remarks>Allocated once at full capacity and cleared (every record starts as <c>default</c>); freed by <see cref="Dispose"/> or the
/// finalizer. Instances are not thread-safe: a slot belongs to whoever holds the block.</remarks>
internal sealed unsafe class BlockSideTable<T> : IDisposable
    where T : unmanaged
{
    private readonly NativeAllocator _allocator;
    private readonly int _count;
    private readonly nuint _bytes;
    private T* _items; // Owned; _count entries. Null once disposed.

    public BlockSideTable(int count, NativeAllocator allocator)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        _allocator = allocator;
        _count = count;
        _bytes = checked((nuint)count * (nuint)sizeof(T));
        _items = (T*)allocator.TryAllocate(_bytes, 64);
        if (_items == null)
        {
            GC.SuppressFinalize(this);
            throw new OutOfMemoryException($"Could not allocate {_bytes} bytes of per-block records.");
        }

        // Cleared: a record is read for blocks its owner never wrote (a block rented around the manager), and memory
        // left by an earlier owner of these bytes could pass for a live record.
        new Span<byte>(_items, checked((int)_bytes)).Clear();
    }

    ~BlockSideTable()
    {
        // A finalizer must never throw: on the finalizer thread that ends the process. Release frees through the
        // allocator, whose own backing may already be gone in any finalization order; what cannot be freed is gone with it.
        try
        {
            Release();
        }
        catch (Exception exception)
        {
            Debug.WriteLine($"BlockSideTable finalizer: {exception.Message}");
        }
    }

    /// <summary>Entries in the table.</summary>
    public int Count => _count;

    /// <summary>Native bytes the table holds.</summary>
    public long NativeBytes => _items == null ? 0 : (long)_bytes;

    /// <summary>The record of block <paramref name="index"/>.</summary>
    public ref T this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            // SAFETY: callers pass the index of a handle the pool validated (index < the pool's MaxCount == _count);
            // _items lives until Dispose, which the owner calls after its last use.
            Debug.Assert(_items != null, "Side table used after Dispose.");
            Debug.Assert((uint)index < (uint)_count, "Block index out of range.");
            return ref _items[index];
        }
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        T* items = _items;
        _items = null;
        if (items != null)
        {
            _allocator.Free(items, _bytes, 64);
        }
    }
}
