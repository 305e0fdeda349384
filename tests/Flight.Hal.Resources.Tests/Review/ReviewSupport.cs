#pragma warning disable // review probes: analyzer style rules do not apply
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Tests.Review;

/// <summary>An allocator whose allocations of one exact size and alignment (a pool slab) can be failed, or held on a
/// chosen thread until the test lets them go (then failed): a way to stop a request while its budget hold stands.</summary>
public sealed unsafe class GateAllocator : NativeAllocator
{
    private readonly object _lock = new();
    private readonly Dictionary<nint, nuint> _live = new();
    private readonly nuint _gatedBytes;
    private readonly nuint _gatedAlignment;
    private int _gatedCallsOnTarget;

    public GateAllocator(nuint gatedBytes, nuint gatedAlignment)
    {
        _gatedBytes = gatedBytes;
        _gatedAlignment = gatedAlignment;
    }

    /// <summary>Gated allocations fail (return null) while true.</summary>
    public volatile bool FailGated;

    /// <summary>The thread whose <see cref="PauseOnCall"/>-th gated allocation pauses.</summary>
    public volatile int TargetThreadId = -1;

    /// <summary>Which gated call (1-based) on the target thread pauses; 0: none.</summary>
    public volatile int PauseOnCall;

    /// <summary>After a pause, allocate for real instead of failing.</summary>
    public volatile bool SucceedAfterPause;

    public readonly ManualResetEventSlim Paused = new(false);
    public readonly ManualResetEventSlim Resume = new(false);

    public int LiveCount
    {
        get
        {
            lock (_lock)
            {
                return _live.Count;
            }
        }
    }

    protected override void* AllocateCore(nuint byteCount, nuint alignment)
    {
        if (byteCount == _gatedBytes && alignment == _gatedAlignment && FailGated)
        {
            if (Environment.CurrentManagedThreadId == TargetThreadId
                && Interlocked.Increment(ref _gatedCallsOnTarget) == PauseOnCall)
            {
                Paused.Set();
                Resume.Wait(TimeSpan.FromSeconds(20));
                if (SucceedAfterPause)
                {
                    return Allocate(byteCount, alignment);
                }
            }

            return null;
        }

        return Allocate(byteCount, alignment);
    }

    private void* Allocate(nuint byteCount, nuint alignment)
    {
        void* pointer = NativeMemory.AlignedAlloc(byteCount, alignment);
        lock (_lock)
        {
            _live.Add((nint)pointer, byteCount);
        }

        return pointer;
    }

    protected override void FreeCore(void* pointer, nuint byteCount, nuint alignment)
    {
        lock (_lock)
        {
            if (!_live.Remove((nint)pointer))
            {
                throw new InvalidOperationException("Free of a pointer this allocator does not own.");
            }
        }

        NativeMemory.AlignedFree(pointer);
    }
}
