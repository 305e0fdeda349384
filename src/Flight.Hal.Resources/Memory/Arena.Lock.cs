using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// The lock: on a thread-safe arena every public operation runs under one short spin lock, taken and released by a
// Scope; on any other arena the scope does nothing.
public sealed partial class Arena
{
    private readonly bool _threadSafe;       // Every operation holds _spinLock when set.
    private int _spinLock;                   // 0 free, 1 held; thread-safe arenas only (see Enter).

    /// <summary>Takes the arena's spin lock (thread-safe arenas). Operations are short and bounded, so one compare-and-swap
    /// is cheaper than a monitor; under contention the caller spins, then yields, then sleeps (SpinWait).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Enter()
    {
        if (Interlocked.CompareExchange(ref _spinLock, 1, 0) != 0)
        {
            EnterContended();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EnterContended()
    {
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _spinLock) != 0 || Interlocked.CompareExchange(ref _spinLock, 1, 0) != 0)
        {
            spinner.SpinOnce();
        }
    }

    /// <summary>Releases the spin lock: a release store publishes everything written under it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Exit() => Volatile.Write(ref _spinLock, 0);

    /// <summary>One operation's hold on the lock: <c>using (new Scope(this)) { ... }</c> takes the spin lock when the
    /// arena is thread-safe and releases it however the block ends; on an arena that is not, it takes nothing, so a
    /// single-threaded arena pays for no atomic operation.</summary>
    private readonly ref struct Scope
    {
        private readonly Arena? _arena;      // The arena whose lock is held; null when none was taken.

        /// <summary>Takes <paramref name="arena"/>'s lock if it is thread-safe.</summary>
        /// <param name="arena">The arena the operation runs on.</param>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Scope(Arena arena)
        {
            if (arena._threadSafe)
            {
                arena.Enter();
                _arena = arena;
            }
        }

        /// <summary>Releases the lock if the constructor took it.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Dispose() => _arena?.Exit();
    }
}
