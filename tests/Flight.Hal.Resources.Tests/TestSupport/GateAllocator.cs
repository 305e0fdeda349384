using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>An allocator whose allocations of one exact size and alignment (a pool slab) can be failed, or held on a
/// chosen thread until the test lets them go (then failed): a way to stop a request while its budget hold stands.</summary>
public sealed unsafe class GateAllocator : NativeAllocator, IDisposable
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

    private volatile bool _failGated;
    private volatile int _targetThreadId = -1;
    private volatile int _pauseOnCall;
    private volatile bool _succeedAfterPause;

    /// <summary>Gated allocations fail (return null) while true.</summary>
    public bool FailGated { get => _failGated; set => _failGated = value; }

    /// <summary>The thread whose <see cref="PauseOnCall"/>-th gated allocation pauses.</summary>
    public int TargetThreadId { get => _targetThreadId; set => _targetThreadId = value; }

    /// <summary>Which gated call (1-based) on the target thread pauses; 0: none.</summary>
    public int PauseOnCall { get => _pauseOnCall; set => _pauseOnCall = value; }

    /// <summary>After a pause, allocate for real instead of failing.</summary>
    public bool SucceedAfterPause { get => _succeedAfterPause; set => _succeedAfterPause = value; }

    /// <summary>Set when the paused call starts waiting.</summary>
    public ManualResetEventSlim Paused { get; } = new(false);

    /// <summary>Set by the test to let the paused call go on.</summary>
    public ManualResetEventSlim Resume { get; } = new(false);

    public void Dispose()
    {
        Paused.Dispose();
        Resume.Dispose();
    }

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
