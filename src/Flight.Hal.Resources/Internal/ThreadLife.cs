namespace Flight.Hal.Resources;

/// <summary>Tells whether a thread has exited without keeping its managed <see cref="Thread"/> object alive.</summary>
/// <remarks>
/// <para>Why not keep the <see cref="Thread"/> and ask <see cref="Thread.IsAlive"/>: for a thread the runtime did not
/// start (a C engine's thread calling the C ABI), the <see cref="Thread"/> object carries native runtime state (a wait
/// monitor, 88 bytes under NativeAOT on Linux) that is freed only when the object is finalized. Per-thread caches that
/// held the object kept those bytes for every thread that ever came by.</para>
/// <para>Instead a thread's life holds a weak reference to its <see cref="Thread"/>: while the thread runs, the runtime
/// roots the object; once it exits, the object is either still there and says <c>IsAlive == false</c>, or collected —
/// either way the exit is seen at once, and the runtime is free to collect the object and its native state.</para>
/// <para>Thread-safe.</para>
/// </remarks>
internal sealed class ThreadLife
{
    [ThreadStatic]
    private static ThreadLife? t_current;

    private readonly WeakReference<Thread> _thread = new(Thread.CurrentThread);

    private ThreadLife()
    {
    }

    /// <summary>The calling thread's life (created on its first call).</summary>
    public static ThreadLife Current => t_current ??= new ThreadLife();

    /// <summary>Whether the thread has exited.</summary>
    public bool HasExited => !_thread.TryGetTarget(out Thread? thread) || !thread.IsAlive;
}
