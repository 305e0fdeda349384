using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flight.Hal.Resources.Native;

/// <summary>The C ABI (<c>native-sim/include/flight_hal_resources.h</c>). Every entry point returns an
/// <c>fhr_status</c> (a <see cref="ResourceStatus"/> value) and catches every managed exception: nothing crosses the
/// boundary. Null pointers and unknown enum values are <see cref="ResourceStatus.InvalidArgument"/>; an unknown or
/// destroyed manager is <see cref="ResourceStatus.InvalidHandle"/>.</summary>
internal static unsafe class NativeApi
{
    private static readonly nint[] s_statusStrings = new nint[256]; // UTF-8, allocated once per value, never freed

    [UnmanagedCallersOnly(EntryPoint = "fhr_manager_create")]
    private static int ManagerCreate(byte* profile, nint* manager)
    {
        if (manager == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *manager = 0;
        return Guard(() =>
        {
            PlatformProfile platform;
            if (profile == null)
            {
                platform = PlatformProfile.Detect();
            }
            else if (!PlatformProfile.TryGet(Utf8(profile), out PlatformProfile? named))
            {
                return ResourceStatus.NotFound;
            }
            else
            {
                platform = named;
            }

            *manager = NativeManager.Add(new ResourceManager(platform));
            return ResourceStatus.Ok;
        });
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_manager_destroy")]
    private static int ManagerDestroy(nint manager) => Guard(() =>
    {
        if (!NativeManager.TryRemove(manager, out NativeManager state))
        {
            return manager == 0 ? ResourceStatus.InvalidArgument : ResourceStatus.InvalidHandle;
        }

        state.DisposeAll();
        return ResourceStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_set_budget")]
    private static int SetBudget(nint manager, int type, long maxBytes, long reservedBytes) => WithManager(manager, m =>
    {
        if (!IsType(type) || maxBytes < 0 || reservedBytes < 0 || reservedBytes > maxBytes)
        {
            return ResourceStatus.InvalidArgument;
        }

        m.Manager.SetBudget((ResourceType)type, new ResourceBudget(maxBytes, reservedBytes));
        return ResourceStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_budget")]
    private static int GetBudget(nint manager, int type, long* maxBytes, long* reservedBytes) => WithManager(manager, m =>
    {
        if (!IsType(type) || maxBytes == null || reservedBytes == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        ResourceBudget budget = m.Manager.GetBudget((ResourceType)type);
        *maxBytes = budget.MaxBytes;
        *reservedBytes = budget.ReservedBytes;
        return ResourceStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_acquire")]
    private static int AcquireExport(
        nint manager, int type, long size, int alignment, uint flags, int mode, int timeoutMs, byte* name, ulong* handle) =>
        Acquire(manager, type, size, alignment, flags, mode, timeoutMs, name, null, handle);

    [UnmanagedCallersOnly(EntryPoint = "fhr_acquire_owned")]
    private static int AcquireOwnedExport(
        nint manager, int type, long size, int alignment, uint flags, int mode, int timeoutMs, byte* name, byte* owner, ulong* handle) =>
        Acquire(manager, type, size, alignment, flags, mode, timeoutMs, name, owner, handle);

    [UnmanagedCallersOnly(EntryPoint = "fhr_resolve")]
    private static void* Resolve(nint manager, ulong handle)
    {
        try
        {
            return NativeManager.TryGet(manager, out NativeManager m)
                ? (void*)m.Manager.ResolveAddress(ResourceHandle.FromRawValue(handle))
                : null;
        }
        catch (Exception)
        {
            return null; // a manager destroyed on another thread meanwhile
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_resolve_ex")]
    private static int ResolveEx(nint manager, ulong handle, void** address, long* size) => WithManager(manager, m =>
    {
        if (address == null || size == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        ResourceStatus status = m.Manager.TryResolve(ResourceHandle.FromRawValue(handle), out nint found, out long length);
        *address = (void*)found;
        *size = length;
        return status;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_release")]
    private static int Release(nint manager, ulong handle) =>
        WithManager(manager, m => m.Manager.Release(ResourceHandle.FromRawValue(handle)));

    [UnmanagedCallersOnly(EntryPoint = "fhr_release_owned")]
    private static int ReleaseOwned(nint manager, ulong handle, byte* owner) => WithManager(manager, m =>
        owner == null
            ? ResourceStatus.InvalidArgument
            : m.Manager.Release(ResourceHandle.FromRawValue(handle), m.Manager.GetOwner(Utf8(owner))));

    [UnmanagedCallersOnly(EntryPoint = "fhr_share")]
    private static int Share(nint manager, ulong handle, byte* owner, ulong* shared) => WithManager(manager, m =>
    {
        if (owner == null || shared == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        *shared = 0;
        ResourceStatus status = m.Manager.TryShare(ResourceHandle.FromRawValue(handle), m.Manager.GetOwner(Utf8(owner)), out ResourceHandle copy);
        *shared = copy.RawValue;
        return status;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_find")]
    private static int Find(nint manager, byte* name, ulong* handle) => WithManager(manager, m =>
    {
        if (name == null || handle == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        ResourceStatus status = m.Manager.TryFind(Utf8(name), out ResourceHandle found);
        *handle = found.RawValue;
        return status;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_stats")]
    private static int GetStats(nint manager, int type, NativeStats* stats) => WithManager(manager, m =>
    {
        if (!IsType(type) || stats == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        ResourceStats s = m.Manager.GetStats((ResourceType)type);
        *stats = new NativeStats
        {
            Type = type,
            Pressure = (int)s.Pressure,
            BudgetMaxBytes = s.Budget.MaxBytes,
            BudgetReservedBytes = s.Budget.ReservedBytes,
            CurrentBytes = s.CurrentBytes,
            PeakBytes = s.PeakBytes,
            Acquisitions = s.Acquisitions,
            Releases = s.Releases,
            Failures = s.Failures,
            ReserveAcquisitions = s.ReserveAcquisitions,
            EmergencyOverruns = s.EmergencyOverruns,
            Reclamations = s.Reclamations,
            ReclaimedBytes = s.ReclaimedBytes,
        };
        return ResourceStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_region_stats")]
    private static int GetRegionStats(nint manager, int kind, NativeRegionStats* stats) => WithManager(manager, m =>
    {
        if ((uint)kind > (uint)RegionKind.Sound || stats == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        if (m.Manager.Profile.FindRegion((RegionKind)kind) == null)
        {
            return ResourceStatus.NotFound;
        }

        RegionStats r = m.Manager.GetRegionStats((RegionKind)kind);
        *stats = new NativeRegionStats
        {
            Kind = kind,
            Allocations = r.Allocations,
            CapacityBytes = r.CapacityBytes,
            ReservedBytes = r.ReservedBytes,
            UsedBytes = r.UsedBytes,
            PeakUsedBytes = r.PeakUsedBytes,
            LargestFreeBlock = r.LargestFreeBlock,
            Failures = r.Failures,
            Fragmentation = r.Fragmentation,
        };
        return ResourceStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_pool_stats")]
    private static int GetPoolStats(nint manager, int type, int blockSize, NativePoolStats* stats) => WithManager(manager, m =>
    {
        if (!IsType(type) || stats == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        ResourceStatus status = m.Manager.Pools.TryGetPoolStats((ResourceType)type, blockSize, out PoolStats p);
        if (status == ResourceStatus.Ok)
        {
            *stats = new NativePoolStats
            {
                Type = type,
                BlockSize = p.BlockSize,
                TotalBlocks = p.TotalBlocks,
                UsedBlocks = p.UsedBlocks,
                FreeBlocks = p.FreeBlocks,
                PeakUsedBlocks = p.PeakUsedBlocks,
                CapacityBlocks = p.CapacityBlocks,
                Efficiency = p.Efficiency,
            };
        }

        return status;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_live_count")]
    private static int LiveCount(nint manager, long* count) => WithManager(manager, m =>
    {
        if (count == null)
        {
            return ResourceStatus.InvalidArgument;
        }

        *count = m.Manager.LiveCount;
        return ResourceStatus.Ok;
    });

    [UnmanagedCallersOnly(EntryPoint = "fhr_register_pressure_callback")]
    private static int RegisterPressure(
        nint manager, delegate* unmanaged<void*, int, int, int, long, void> callback, void* user, long* registration) =>
        WithManager(manager, m =>
        {
            if (callback == null || registration == null)
            {
                return ResourceStatus.InvalidArgument;
            }

            nint fn = (nint)callback;
            nint state = (nint)user;
            IDisposable added = m.Manager.RegisterPressureCallback((in PressureChange change) =>
                ((delegate* unmanaged<void*, int, int, int, long, void>)fn)(
                    (void*)state, (int)change.Type, (int)change.Previous, (int)change.Current, change.Stats.CurrentBytes));
            *registration = m.AddRegistration(added);
            return ResourceStatus.Ok;
        });

    [UnmanagedCallersOnly(EntryPoint = "fhr_register_reclamation_callback")]
    private static int RegisterReclamation(
        nint manager, int type, delegate* unmanaged<void*, int, long, long> callback, void* user, long* registration) =>
        WithManager(manager, m =>
        {
            if (!IsType(type) || callback == null || registration == null)
            {
                return ResourceStatus.InvalidArgument;
            }

            nint fn = (nint)callback;
            nint state = (nint)user;
            IDisposable added = m.Manager.RegisterReclamationCallback((ResourceType)type, (t, requested) =>
                ((delegate* unmanaged<void*, int, long, long>)fn)((void*)state, (int)t, requested));
            *registration = m.AddRegistration(added);
            return ResourceStatus.Ok;
        });

    [UnmanagedCallersOnly(EntryPoint = "fhr_unregister_callback")]
    private static int Unregister(nint manager, long registration) =>
        WithManager(manager, m => m.RemoveRegistration(registration) ? ResourceStatus.Ok : ResourceStatus.NotFound);

    [UnmanagedCallersOnly(EntryPoint = "fhr_status_string")]
    private static byte* StatusString(int status)
    {
        try
        {
            int slot = (uint)status <= 255 ? status : 253; // 253 is unused: "Unknown status."
            nint text = Volatile.Read(ref s_statusStrings[slot]);
            if (text == 0)
            {
                string name = Enum.IsDefined((ResourceStatus)slot) ? ((ResourceStatus)slot).ToString() : "Unknown";
                text = Marshal.StringToCoTaskMemUTF8($"{name}: {((ResourceStatus)slot).GetDescription()}");
                nint raced = Interlocked.CompareExchange(ref s_statusStrings[slot], text, 0);
                if (raced != 0)
                {
                    Marshal.FreeCoTaskMem(text);
                    text = raced;
                }
            }

            return (byte*)text;
        }
        catch (Exception)
        {
            return null;
        }
    }

    private static int Acquire(
        nint manager, int type, long size, int alignment, uint flags, int mode, int timeoutMs, byte* name, byte* owner, ulong* handle)
    {
        if (handle == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *handle = 0;
        return WithManager(manager, m =>
        {
            if (!IsType(type) || size <= 0 || (uint)mode > (uint)AcquisitionMode.Emergency || flags > ushort.MaxValue)
            {
                return ResourceStatus.InvalidArgument;
            }

            var metadata = new ResourceMetadata((ResourceType)type, size, alignment, (ResourceFlags)flags); // throws on bad alignment/flags
            TimeSpan timeout = timeoutMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(timeoutMs);
            ResourceOwner named = owner == null ? ResourceOwner.None : m.Manager.GetOwner(Utf8(owner));
            ResourceStatus status = m.Manager.TryAcquire(
                in metadata, out ResourceHandle acquired, name == null ? null : Utf8(name), (AcquisitionMode)mode, timeout, named);
            *handle = acquired.RawValue;
            return status;
        });
    }

    private static bool IsType(int type) => (uint)type <= (uint)ResourceType.Custom;

    private static string Utf8(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? string.Empty;

    private static int WithManager(nint manager, Func<NativeManager, ResourceStatus> body) => Guard(() =>
    {
        if (manager == 0)
        {
            return ResourceStatus.InvalidArgument;
        }

        return NativeManager.TryGet(manager, out NativeManager m) ? body(m) : ResourceStatus.InvalidHandle;
    });

    /// <summary>Runs <paramref name="body"/>, turning every exception into a status: nothing crosses the boundary.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int Guard(Func<ResourceStatus> body)
    {
        try
        {
            return (int)body();
        }
        catch (ResourceException exception)
        {
            return (int)exception.Status;
        }
        catch (ObjectDisposedException)
        {
            return (int)ResourceStatus.InvalidHandle; // destroyed on another thread meanwhile
        }
        catch (ArgumentException)
        {
            return (int)ResourceStatus.InvalidArgument;
        }
        catch (OutOfMemoryException)
        {
            return (int)ResourceStatus.OutOfMemory;
        }
        catch (Exception)
        {
            return (int)ResourceStatus.InternalError;
        }
    }
}
