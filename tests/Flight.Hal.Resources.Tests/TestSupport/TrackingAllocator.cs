using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>A <see cref="NativeAllocator"/> for tests: counts bytes (through the base class), remembers every live
/// block, and fails on demand.</summary>
public sealed unsafe class TrackingAllocator : NativeAllocator
{
    private readonly object _lock = new();
    private readonly Dictionary<nint, (nuint Bytes, nuint Alignment)> _live = new();
    private int _allocationsUntilFailure = -1;

    /// <summary>When true, every allocation fails.</summary>
    public bool FailAll { get; set; }

    /// <summary>Blocks allocated and not yet freed, with their sizes.</summary>
    public IReadOnlyDictionary<nint, (nuint Bytes, nuint Alignment)> LiveBlocks
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<nint, (nuint, nuint)>(_live);
            }
        }
    }

    /// <summary>Lets <paramref name="successes"/> more allocations succeed, then fails every later one.</summary>
    public void FailAfter(int successes) => _allocationsUntilFailure = successes;

    /// <summary>Stops injecting failures.</summary>
    public void Heal()
    {
        _allocationsUntilFailure = -1;
        FailAll = false;
    }

    protected override void* AllocateCore(nuint byteCount, nuint alignment)
    {
        lock (_lock)
        {
            if (FailAll)
            {
                return null;
            }

            if (_allocationsUntilFailure == 0)
            {
                return null;
            }

            if (_allocationsUntilFailure > 0)
            {
                _allocationsUntilFailure--;
            }

            void* pointer = NativeMemory.AlignedAlloc(byteCount, alignment);
            _live.Add((nint)pointer, (byteCount, alignment));
            return pointer;
        }
    }

    protected override void FreeCore(void* pointer, nuint byteCount, nuint alignment)
    {
        lock (_lock)
        {
            if (!_live.Remove((nint)pointer, out (nuint Bytes, nuint Alignment) entry))
            {
                throw new InvalidOperationException($"Free of a pointer this allocator does not own: 0x{(nint)pointer:x}.");
            }

            if (entry.Bytes != byteCount || entry.Alignment != alignment)
            {
                throw new InvalidOperationException(
                    $"Free with size {byteCount}/{alignment}, allocated as {entry.Bytes}/{entry.Alignment}.");
            }
        }

        NativeMemory.AlignedFree(pointer);
    }
}
