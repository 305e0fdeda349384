using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Native;

// The asset cache over the C ABI: fhr_cache_create / _destroy / _load / _resource / _release / _unload_unused /
// _get_stats, and fhr_load_acquire for a C loader. A C loader runs inside fhr_cache_load, on the caller's thread; its
// fhr_load_context* is a token valid only while it runs on that thread (nested loads each get their own).
internal static unsafe partial class NativeApi
{
    [ThreadStatic]
    private static delegate* unmanaged<void*, nint, byte*, int> t_loader; // the C loader of the load about to run here
    [ThreadStatic]
    private static void* t_loaderUser;
    [ThreadStatic]
    private static byte* t_loaderKey;
    [ThreadStatic]
    private static CacheLoadContext? t_context;                          // the load running on this thread, innermost
    [ThreadStatic]
    private static nint t_contextToken;                                  // what C holds as that load's fhr_load_context*
    private static long s_nextContextToken;

    // One delegate for every C load: the C function and user pointer travel in the thread-statics above.
    private static readonly CacheLoader<int> s_cLoader = RunCLoader;

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_create")]
    internal static int CacheCreate(nint manager, byte* name, long maxBytes, nint* cache)
    {
        if (cache == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *cache = 0;
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            string? text = Utf8String(name);
            if (string.IsNullOrEmpty(text) || maxBytes < 0)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            *cache = NativeCache.Add(m, new ResourceCacheOptions<int> { Name = text, MaxBytes = maxBytes == 0 ? long.MaxValue : maxBytes });
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_destroy")]
    internal static int CacheDestroy(nint cache)
    {
        try
        {
            if (!NativeCache.TryRemove(cache, out NativeCache c))
            {
                return (int)(cache == 0 ? ResourceStatus.InvalidArgument : ResourceStatus.InvalidHandle);
            }

            c.Owner.RemoveCache(c);
            c.Dispose();
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_load")]
    internal static int CacheLoad(nint cache, byte* key, int priority, delegate* unmanaged<void*, nint, byte*, int> loader, void* user, ulong* reference)
    {
        if (reference == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *reference = 0;
        char[]? rented = null;
        delegate* unmanaged<void*, nint, byte*, int> outerLoader = t_loader;
        void* outerUser = t_loaderUser;
        byte* outerKey = t_loaderKey;
        try
        {
            if (!TryGetCache(cache, out NativeCache? c, out int status))
            {
                return status;
            }

            if (loader == null || (uint)priority > (uint)ResourcePriority.Critical
                || !TryDecode(key, stackalloc char[StackNameChars], ref rented, out ReadOnlySpan<char> text) || text.IsEmpty)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            t_loader = loader;
            t_loaderUser = user;
            t_loaderKey = key;
            CacheRef<int> loaded = c.Cache.GetOrLoad(text, s_cLoader, (ResourcePriority)priority);
            *reference = c.Keep(loaded);
            return (int)ResourceStatus.Ok;
        }
        catch (CacheLoadException failure)
        {
            // The C loader's own status, a refused acquisition, or a cycle (Deadlock).
            return failure.InnerException switch
            {
                ResourceException refused => (int)refused.Status,
                null => (int)ResourceStatus.Deadlock, // a cycle: the key is being loaded by this load already
                _ => (int)ResourceStatus.InternalError,
            };
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
        finally
        {
            t_loader = outerLoader; // a load nested in a C loader leaves the outer one's as they were
            t_loaderUser = outerUser;
            t_loaderKey = outerKey;
            ReturnBuffer(rented);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_load_acquire")]
    internal static int LoadAcquire(nint context, int type, long size, int alignment, uint flags, ulong* handle)
    {
        if (handle == null || context == 0)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *handle = 0;
        try
        {
            CacheLoadContext? running = t_context;
            if (running is not { IsActive: true } current || context != t_contextToken)
            {
                return (int)ResourceStatus.InvalidHandle; // not the context of a load running on this thread now
            }

            if (!IsType(type) || size <= 0 || flags > ushort.MaxValue)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            var metadata = new ResourceMetadata((ResourceType)type, size, alignment, (ResourceFlags)flags); // throws on bad alignment/flags
            ResourceStatus status = current.TryAcquire(in metadata, out ResourceHandle acquired);
            *handle = acquired.RawValue;
            return (int)status;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_resource")]
    internal static int CacheResource(nint cache, ulong reference, int index, ulong* handle)
    {
        if (handle == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *handle = 0;
        try
        {
            if (!TryGetCache(cache, out NativeCache? c, out int status))
            {
                return status;
            }

            if (!c.TryFind(reference, out CacheRef<int> held) || !held.IsAlive)
            {
                return (int)ResourceStatus.StaleHandle;
            }

            Span<ResourceHandle> handles = stackalloc ResourceHandle[16];
            int count = held.GetResources(handles);
            if ((uint)index >= (uint)count)
            {
                return (int)ResourceStatus.NotFound;
            }

            if (index >= handles.Length)
            {
                ResourceHandle[] all = new ResourceHandle[count];
                held.GetResources(all);
                *handle = all[index].RawValue;
            }
            else
            {
                *handle = handles[index].RawValue;
            }

            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_release")]
    internal static int CacheRelease(nint cache, ulong reference)
    {
        try
        {
            if (!TryGetCache(cache, out NativeCache? c, out int status))
            {
                return status;
            }

            return c.TryTake(reference, out CacheRef<int> held) ? (int)held.Release() : (int)ResourceStatus.StaleHandle;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_unload_unused")]
    internal static int CacheUnloadUnused(nint cache, long* freed)
    {
        try
        {
            if (!TryGetCache(cache, out NativeCache? c, out int status))
            {
                return status;
            }

            long bytes = c.Cache.UnloadUnused();
            if (freed != null)
            {
                *freed = bytes;
            }

            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_cache_get_stats")]
    internal static int CacheGetStats(nint cache, NativeCacheStats* stats)
    {
        if (stats == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        try
        {
            if (!TryGetCache(cache, out NativeCache? c, out int status))
            {
                return status;
            }

            CacheStats s = c.Cache.GetStats();
            *stats = new NativeCacheStats
            {
                Entries = s.Entries,
                Referenced = s.Referenced,
                Unreferenced = s.Unreferenced,
                Loading = s.Loading,
                ResidentBytes = s.ResidentBytes,
                Hits = s.Hits,
                Misses = s.Misses,
                Loads = s.Loads,
                LoadFailures = s.LoadFailures,
                Evictions = s.Evictions,
                ForcedUnloads = s.ForcedUnloads,
                Unloads = s.Unloads,
            };
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    /// <summary>The managed loader of every C load: calls the C loader this thread's fhr_cache_load named, with a token
    /// for this load's context.</summary>
    private static int RunCLoader(CacheLoadContext context)
    {
        delegate* unmanaged<void*, nint, byte*, int> loader = t_loader;
        void* user = t_loaderUser;
        byte* key = t_loaderKey;
        CacheLoadContext? outerContext = t_context;
        nint outerToken = t_contextToken;
        nint token = (nint)(0x30000 + (Interlocked.Increment(ref s_nextContextToken) << 4));
        t_context = context;
        t_contextToken = token;
        int status;
        try
        {
            status = loader(user, token, key);
        }
        finally
        {
            t_context = outerContext;
            t_contextToken = outerToken;
        }

        if (status != (int)ResourceStatus.Ok)
        {
            throw new ResourceException(
                Enum.IsDefined((ResourceStatus)status) ? (ResourceStatus)status : ResourceStatus.InternalError,
                $"The C loader of '{context.Key}' returned status {status}.");
        }

        return (int)context.Bytes > 0 ? 1 : 0;
    }

    private static bool TryGetCache(nint cache, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NativeCache? found, out int status)
    {
        if (cache == 0)
        {
            found = null;
            status = (int)ResourceStatus.InvalidArgument;
            return false;
        }

        if (!NativeCache.TryGet(cache, out NativeCache c) || c.Owner.Manager.IsDisposed)
        {
            found = null;
            status = (int)ResourceStatus.InvalidHandle;
            return false;
        }

        found = c;
        status = (int)ResourceStatus.Ok;
        return true;
    }
}
