using System.Runtime.InteropServices;

namespace Flight.Hal.Resources;

/// <summary>The one seam through which every native byte in this library is allocated and freed.</summary>
/// <remarks>
/// <para>Tables, pools and arenas take an allocator in their constructor (default: <see cref="Default"/>), so a
/// test can count bytes and inject failure, and an embedder can supply memory from its own heap.</para>
/// <para>The base class keeps exact counters (<see cref="LiveBytes"/>, <see cref="LiveAllocations"/>, ...) around
/// the two overridable operations. Callers allocate in large pieces (slabs, tables, regions), never per block.</para>
/// <para>This class is thread-safe as long as the overrides are. All members may be used by multiple threads
/// concurrently.</para>
/// </remarks>
public abstract unsafe class NativeAllocator
{
    private long _liveBytes;
    private long _liveAllocations;
    private long _totalAllocations;
    private long _failedAllocations;

    /// <summary>The process-wide allocator over <see cref="NativeMemory.AlignedAlloc(nuint, nuint)"/>.</summary>
    public static NativeAllocator Default { get; } = new SystemNativeAllocator();

    /// <summary>Bytes currently allocated through this allocator and not yet freed.</summary>
    public long LiveBytes => Volatile.Read(ref _liveBytes);

    /// <summary>Allocations currently outstanding.</summary>
    public long LiveAllocations => Volatile.Read(ref _liveAllocations);

    /// <summary>Successful allocations since creation.</summary>
    public long TotalAllocations => Volatile.Read(ref _totalAllocations);

    /// <summary>Allocations that returned <see langword="null"/> since creation.</summary>
    public long FailedAllocations => Volatile.Read(ref _failedAllocations);

    /// <summary>Allocates <paramref name="byteCount"/> bytes aligned to <paramref name="alignment"/>.</summary>
    /// <param name="byteCount">Bytes to allocate; greater than zero.</param>
    /// <param name="alignment">A power of two.</param>
    /// <returns>The memory, uninitialised; or <see langword="null"/> when it cannot be had.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="byteCount"/> is zero.</exception>
    /// <exception cref="ArgumentException"><paramref name="alignment"/> is not a power of two.</exception>
    public void* TryAllocate(nuint byteCount, nuint alignment)
    {
        if (byteCount == 0)
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(byteCount), byteCount, "Cannot allocate zero bytes.");
        }

        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        {
            ThrowHelper.ThrowArgument(nameof(alignment), "Alignment must be a power of two.");
        }

        void* pointer = AllocateCore(byteCount, alignment);
        if (pointer == null)
        {
            Interlocked.Increment(ref _failedAllocations);
            return null;
        }

        Interlocked.Add(ref _liveBytes, (long)byteCount);
        Interlocked.Increment(ref _liveAllocations);
        Interlocked.Increment(ref _totalAllocations);
        return pointer;
    }

    /// <summary>Frees memory from <see cref="TryAllocate"/>; <see langword="null"/> is a no-op.</summary>
    /// <param name="pointer">The pointer <see cref="TryAllocate"/> returned.</param>
    /// <param name="byteCount">The byte count it was allocated with.</param>
    /// <param name="alignment">The alignment it was allocated with.</param>
    public void Free(void* pointer, nuint byteCount, nuint alignment)
    {
        if (pointer == null)
        {
            return;
        }

        FreeCore(pointer, byteCount, alignment);
        Interlocked.Add(ref _liveBytes, -(long)byteCount);
        Interlocked.Decrement(ref _liveAllocations);
    }

    /// <summary>Whether memory this allocator handed out may still be read. False only when the allocator's own backing
    /// has gone (an allocator over an arena that was disposed or finalized first): a finalizer must then not
    /// read what it allocated here, only give it back.</summary>
    internal virtual bool AllocationsReadable => true;

    /// <summary>Allocates the memory; returns <see langword="null"/> instead of throwing when it cannot.</summary>
    /// <param name="byteCount">Greater than zero.</param>
    /// <param name="alignment">A power of two.</param>
    protected abstract void* AllocateCore(nuint byteCount, nuint alignment);

    /// <summary>Frees memory returned by <see cref="AllocateCore"/>; never called with <see langword="null"/>.</summary>
    /// <param name="pointer">The memory.</param>
    /// <param name="byteCount">Its size as allocated.</param>
    /// <param name="alignment">Its alignment as allocated.</param>
    protected abstract void FreeCore(void* pointer, nuint byteCount, nuint alignment);

    private sealed class SystemNativeAllocator : NativeAllocator
    {
        protected override void* AllocateCore(nuint byteCount, nuint alignment)
        {
            try
            {
                return NativeMemory.AlignedAlloc(byteCount, alignment);
            }
            catch (OutOfMemoryException)
            {
                return null;
            }
        }

        protected override void FreeCore(void* pointer, nuint byteCount, nuint alignment) => NativeMemory.AlignedFree(pointer);
    }
}
