using System.Collections.Concurrent;

namespace Flight.Hal.Resources;

/// <summary>The coordinator engine code talks to: acquires memory for resources under a <see cref="PlatformProfile"/>'s
/// budgets, pools and memory regions, and hands out 8-byte generational handles to it.</summary>
/// <remarks>
/// <para><b>Routing.</b> A request counts against its type's budget, always. Its memory comes from the smallest fitting
/// pool of its type when the request belongs in main memory, else (or when that pool is full) from the profile's region
/// for it: <see cref="ResourceFlags.GpuAccessible"/> to video RAM and <see cref="ResourceFlags.AudioAccessible"/> to
/// sound RAM where the profile has them, everything else to main RAM.</para>
/// <para><b>Handles.</b> An anonymous (no name, no owner), non-shareable request served by a pool gets the pool block's
/// own handle and a 12-byte record beside the block: no lock, no allocation. Every other resource gets a registry entry
/// (24 bytes plus an 8-byte key) under a short lock. Either way a released or stale handle is detected by its
/// generation, a handle of another manager or a forged one is refused with <see cref="ResourceStatus.InvalidHandle"/>,
/// and nothing is touched.</para>
/// <para><b>Modes.</b> <see cref="AcquisitionMode.NonBlocking"/> fails at once; <see cref="AcquisitionMode.Blocking"/>
/// waits until a release makes room (woken by the release, never by polling); <see cref="AcquisitionMode.Timeout"/>
/// waits at most the given time; <see cref="AcquisitionMode.Emergency"/> uses the reserve, then the reclamation
/// callbacks, then exceeds the budget as a counted overrun, but never a region's physical size. A request that can never
/// fit (larger than the budget or the region) fails at once in every mode. A blocking wait by a named owner that no
/// release could end (every holder of what it waits for is itself waiting) returns <see cref="ResourceStatus.Deadlock"/>.</para>
/// <para><b>Callbacks.</b> Pressure and reclamation callbacks run on the acquiring or releasing thread, outside every
/// lock of the manager, so they may acquire and release themselves; one that throws is reported through
/// <see cref="CallbackFaulted"/> and changes nothing.</para>
/// <para><b>Disposal.</b> <see cref="Dispose"/> reports every live resource (<see cref="ResourceManagerOptions.LeakReported"/>)
/// and returns all native memory; a manager that is never disposed returns it when finalized.</para>
/// <para>This class is thread-safe. All members may be used by multiple threads concurrently, except
/// <see cref="Dispose"/>, which must not race with other calls (blocked acquisitions are the exception: Dispose wakes
/// them and waits for them to leave). Anonymous pooled acquisitions served from the thread's block cache, and releases,
/// take no lock (a compare-and-swap on the block's generation; the budget from the thread's lease, else by
/// compare-and-swap), except a release that starts or grows a budget lease, which takes its type's lease lock for a few
/// instructions; registry operations take one short lock; a blocked acquisition sleeps until a release frees something
/// in the budget or region it waits for.</para>
/// </remarks>
public sealed partial class ResourceManager : IDisposable
{
    /// <summary>Most named owners one manager can have.</summary>
    public const int MaxOwners = ushort.MaxValue;

    /// <summary>Most memory regions a profile may have to be managed.</summary>
    public const int MaxRegions = 15;

    /// <summary>Largest size a resource may have (2^48 − 1 bytes); larger requests fail as impossible.</summary>
    public const long MaxResourceSize = (1L << 48) - 1;

    private static int s_nextId;

    private readonly int _id;
    private readonly PlatformProfile _profile;
    private readonly ResourceManagerOptions _options;
    private readonly NativeAllocator _allocator;
    private readonly ResourceBudgetManager _budgets;

    /// <summary>The manager's budgets (for tests: lease inspection).</summary>
    internal ResourceBudgetManager BudgetsForTests => _budgets;

    /// <summary>Whether <paramref name="owner"/> has a wait recorded in the wait-for graph (for tests: start the other
    /// side of a cycle only once this side is really waiting, not after a guessed delay).</summary>
    internal bool IsOwnerWaitingForTests(ResourceOwner owner)
    {
        lock (_lock)
        {
            return _graph.IsBlocked(owner.Id);
        }
    }
    private readonly List<IDisposable> _attachments = []; // GetOrAddAttachment; under _lock.
    private volatile bool _disposed;

    /// <summary>Creates a manager for <paramref name="profile"/>: its budgets, its pools (made thread-safe) and one
    /// allocator per memory region (an arena over a fixed block, or the host heap).</summary>
    /// <param name="profile">The platform to model.</param>
    /// <param name="options">Further settings, or null for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="profile"/> is null.</exception>
    /// <exception cref="ArgumentException">The profile has more than <see cref="MaxRegions"/> regions, or an option is out of range.</exception>
    /// <exception cref="OutOfMemoryException">A region or table could not be allocated; nothing is leaked.</exception>
    public ResourceManager(PlatformProfile profile, ResourceManagerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        options ??= new ResourceManagerOptions();
        options.Validate();
        if (profile.Regions.Count > MaxRegions)
        {
            throw new ArgumentException($"A managed profile has at most {MaxRegions} regions; '{profile.Name}' has {profile.Regions.Count}.", nameof(profile));
        }

        _id = Interlocked.Increment(ref s_nextId);
        _profile = profile;
        _options = options;
        _allocator = options.Allocator ?? NativeAllocator.Default;
        _budgets = new ResourceBudgetManager(profile.Budgets);
        _keyCount = ResourceTypes.Count + profile.Regions.Count;
        _graph = new WaitForGraph(_keyCount);
        _keyEpochs = new long[_keyCount];
        _names = new NameTable<ResourceHandle>(options.MaxRetainedNames);
        _regionBytes = new long[profile.Regions.Count];
        _stacks = options.CaptureAcquisitionStacks || options.TrackAcquisitionTimes ? new ConcurrentDictionary<ulong, Acquisition>() : null;
        _safety = options.MemorySafety is { } safety ? new MemorySafety(safety) : null;

        // Built bottom up; what was built is disposed, top down, if a later part fails.
        var built = new List<IDisposable>();
        try
        {
            _regions = new Region[profile.Regions.Count];
            for (int i = 0; i < _regions.Length; i++)
            {
                _regions[i] = new Region(profile.Regions[i], i, ResourceTypes.Count + i, _allocator);
                built.Add(_regions[i]);
            }

            _main = Array.Find(_regions, r => ReferenceEquals(r.Spec, profile.MainRegion))!;
            _video = Array.Find(_regions, r => r.Spec.Kind == RegionKind.Video) ?? _main;
            _sound = Array.Find(_regions, r => r.Spec.Kind == RegionKind.Sound) ?? _main;

            // Pools carve their slabs from main memory: on an arena-backed profile they compete for the machine's bytes.
            IEnumerable<PoolConfig> pools = (options.Pools ?? profile.Pools).Select(c => c with { ThreadSafe = true });
            _pools = new PoolManager(pools, _main.Memory is Arena arena ? SlabAllocator(arena) : _allocator);
            _pools.MarkOwnedByManager();
            built.Add(new Disposer(_pools.DisposeByOwner));
            _bindings = new PoolBinding[_pools.Pools.Count];
            for (int i = 0; i < _bindings.Length; i++)
            {
                SlabPool pool = _pools.Pools[i];
                _bindings[i] = new PoolBinding(pool, _allocator);
                built.Add(_bindings[i]);
                _poolByTag[pool.Tag] = _bindings[i];
                pool.Claims = _bindings[i]; // the pool's public Return now refuses the manager's resources
            }

            _registry = new HandleTable<Entry>(options.MaxRegisteredResources, _allocator);
            built.Add(_registry);
            _bodies = new HandleTable<ShareBody>(options.MaxRegisteredResources, _allocator);
            built.Add(_bodies);
            _registryTag = _registry.Tag;
            _registryBase = _registry.BaseGeneration;
        }
        catch
        {
            for (int i = built.Count - 1; i >= 0; i--)
            {
                built[i].Dispose();
            }

            throw;
        }

        _budgets.CallbackFaulted += (_, e) => CallbackFaulted?.Invoke(this, e);
    }

    /// <summary>Raised (on the thread that ran it) when a pressure, reclamation or leak callback throws.</summary>
    public event EventHandler<CallbackFaultEventArgs>? CallbackFaulted;

    /// <summary>The profile this manager models.</summary>
    public PlatformProfile Profile => _profile;

    /// <summary>The settings it was created with.</summary>
    public ResourceManagerOptions Options => _options;

    /// <summary>The pools requests are routed to: <c>Pools.GetPoolStats(ResourceType.Memory, 4096)</c>.</summary>
    /// <remarks>For statistics. Blocks rented through these pools directly bypass the budgets and are not the manager's
    /// resources (they are not released, reported or counted by it); returning one of the manager's own handles through
    /// them throws an <see cref="ArgumentException"/>, and disposing them does nothing (the manager does).</remarks>
    public PoolManager Pools => _pools;

    /// <summary>Whether <see cref="Dispose"/> has run.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>Callback exceptions caught since creation.</summary>
    public long CallbackFaults => _budgets.CallbackFaults;

    /// <summary>The budget in force for <paramref name="type"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The budget.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public ResourceBudget GetBudget(ResourceType type) => _budgets.GetBudget(type);

    /// <summary>Replaces <paramref name="type"/>'s budget. Usage above a smaller budget drains as resources are released;
    /// a larger one wakes blocked acquisitions.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="budget">The new budget.</param>
    /// <exception cref="ArgumentNullException"><paramref name="budget"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public void SetBudget(ResourceType type, ResourceBudget budget)
    {
        ThrowIfDisposed();
        _budgets.SetBudget(type, budget);
        WakeWaiters((int)type, NoWait);
    }

    /// <summary>A snapshot of <paramref name="type"/>'s accounting: current and peak bytes, counts, failures, reserve use,
    /// emergency overruns, reclamations and pressure.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The statistics.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public ResourceStats GetStats(ResourceType type) => _budgets.GetStats(type);

    /// <summary>The pressure level last published for <paramref name="type"/>.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The level.</returns>
    public ResourcePressure GetPressure(ResourceType type) => _budgets.GetPressure(type);

    /// <summary>Registers a callback for every pressure level change of every type.</summary>
    /// <param name="callback">Called outside every lock, on the thread whose acquisition or release changed the level.</param>
    /// <returns>Dispose it to unregister (idempotent).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    public IDisposable RegisterPressureCallback(PressureCallback callback) => _budgets.RegisterPressureCallback(callback);

    /// <summary>Registers a callback asked to free <paramref name="type"/> memory (usually by releasing cached resources
    /// through this manager) before a request is refused on budget.</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="callback">Returns the bytes it freed.</param>
    /// <returns>Dispose it to unregister (idempotent).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="callback"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public IDisposable RegisterReclamationCallback(ResourceType type, ReclamationCallback callback) =>
        _budgets.RegisterReclamationCallback(type, callback);

    /// <summary>Reports the resources still alive (<see cref="ResourceManagerOptions.LeakReported"/>), then returns every
    /// byte of native memory the manager holds. Handles issued before become invalid. Idempotent.</summary>
    /// <remarks>Blocked acquisitions (Blocking, Timeout) are woken and throw <see cref="ObjectDisposedException"/>;
    /// Dispose waits until every one of them has left, including one that was already retrying, before it frees
    /// anything. It must not race with other calls.</remarks>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        WakeAndAwaitWaiters();
        DetachObserverForDispose(); // a recorder writes what it holds while owner names can still be read
        ReportLeaks();
        lock (_lock)
        {
            foreach (IDisposable attachment in _attachments)
            {
                attachment.Dispose();
            }

            _attachments.Clear();
            _safety?.Clear(); // before the memory it watches goes
            _pools.DisposeByOwner();
            foreach (PoolBinding binding in _bindings)
            {
                binding.Dispose();
            }

            foreach (Region region in _regions)
            {
                region.Dispose();
            }

            _registry.Dispose();
            _bodies.Dispose();
            _stacks?.Clear();
            _safety?.Clear();
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"ResourceManager({_profile.Name})";

    /// <summary>State a higher layer keeps per manager (the scopes' page store), created on first use under the registry
    /// lock and disposed with the manager, before its pools and regions, since it may have been carved from them.</summary>
    /// <typeparam name="T">The attachment's type; one attachment per type.</typeparam>
    /// <param name="create">Creates it; may throw (nothing is kept then).</param>
    /// <returns>The attachment.</returns>
    /// <exception cref="ObjectDisposedException">The manager has been disposed.</exception>
    internal T GetOrAddAttachment<T>(Func<ResourceManager, T> create)
        where T : class, IDisposable
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            foreach (IDisposable attachment in _attachments)
            {
                if (attachment is T found)
                {
                    return found;
                }
            }

            T created = create(this);
            _attachments.Add(created);
            return created;
        }
    }

    /// <summary>The allocator the manager's own native memory comes from (for attachments).</summary>
    internal NativeAllocator Allocator => _allocator;

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }
    }

    /// <summary>Counts a request refused before it reached the manager (a scope with no page left for its handle).</summary>
    internal void CountRefusal(ResourceType type, ResourceStatus status, long size) => CountFailure(type, status, size);

    private const int StatusSlots = 16; // statuses 0..13 by value, then InvalidArgument and InternalError
    private readonly long[] _failuresByStatus = new long[ResourceTypes.Count * StatusSlots];

    /// <summary>How many acquisitions of <paramref name="type"/> were refused with <paramref name="status"/> since the
    /// manager was created (the per-status breakdown of <see cref="ResourceStats.Failures"/>; an async wait ended by its
    /// cancellation token counts there under no status).</summary>
    /// <param name="type">The resource type.</param>
    /// <param name="status">A refusal status.</param>
    /// <returns>The count.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is unknown.</exception>
    public long GetFailureCount(ResourceType type, ResourceStatus status)
    {
        if (!ResourceTypes.IsDefined(type))
        {
            ThrowHelper.ThrowArgumentOutOfRange(nameof(type), type, "Unknown resource type.");
        }

        int slot = StatusSlot(status);
        return slot < 0 ? 0 : Volatile.Read(ref _failuresByStatus[((int)type * StatusSlots) + slot]);
    }

    /// <summary>Counts one refused call: the type's failure, and its status (and raises the event).</summary>
    private void CountFailure(ResourceType type, ResourceStatus status, long size)
    {
        _budgets.CountFailure(type);
        if (ResourceEventSource.Log.IsEnabled())
        {
            ResourceEventSource.Log.AcquisitionFailed((long)type, (long)status, size);
        }

        int slot = StatusSlot(status);
        if (slot >= 0)
        {
            Interlocked.Increment(ref _failuresByStatus[((int)type * StatusSlots) + slot]);
        }
    }

    private static int StatusSlot(ResourceStatus status) => status switch
    {
        ResourceStatus.InvalidArgument => StatusSlots - 2,
        ResourceStatus.InternalError => StatusSlots - 1,
        _ when (uint)status > 0 && (uint)status < StatusSlots - 2 => (int)status,
        _ => -1,
    };

    /// <summary>Adapts an action to <see cref="IDisposable"/> for the construction clean-up list.</summary>
    private sealed class Disposer(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
