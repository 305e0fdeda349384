using System.Buffers;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Text;

// PERF: stack buffers for names are written before they are read (TryDecode), so zeroing them on every call is waste.
[module: SkipLocalsInit]

namespace Flight.Hal.Resources.Native;

/// <summary>The C ABI (<c>native-sim/include/flight_hal_resources.h</c>). Every entry point returns an
/// <c>fhr_status</c> (a <see cref="ResourceStatus"/> value) and catches every managed exception: nothing crosses the
/// boundary. Null pointers and unknown enum values are <see cref="ResourceStatus.InvalidArgument"/>; an unknown or
/// destroyed manager is <see cref="ResourceStatus.InvalidHandle"/>.</summary>
/// <remarks>PERF: the entry points allocate nothing on the managed heap once warm: no delegates or closures per call,
/// and names arrive as UTF-8 that is decoded into a stack buffer and looked up by span (a name or owner seen before is
/// found without creating a string). Each entry is written out with its own try/catch for that reason.</remarks>
internal static unsafe partial class NativeApi
{
    private const int StackNameChars = 256;                                  // Longer names use a pooled buffer.
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly nint[] s_statusStrings = new nint[256];          // UTF-8, allocated once per value, never freed

    [UnmanagedCallersOnly(EntryPoint = "fhr_manager_create")]
    internal static int ManagerCreate(byte* profile, nint* manager)
    {
        if (manager == null)
        {
            return (int)ResourceStatus.InvalidArgument;
        }

        *manager = 0;
        try
        {
            string? name = profile == null ? Environment.GetEnvironmentVariable(PlatformProfile.EnvironmentVariable) : Utf8String(profile);
            PlatformProfile platform;
            if (profile == null && string.IsNullOrWhiteSpace(name))
            {
                platform = PlatformProfile.Detect(); // the host's own
            }
            else if (name == null || !IsExactProfileName(name, trim: profile == null) || !PlatformProfile.TryGet(name, out PlatformProfile? named))
            {
                return (int)ResourceStatus.NotFound;
            }
            else
            {
                platform = named;
            }

            *manager = NativeManager.Add(new ResourceManager(platform));
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_manager_destroy")]
    internal static int ManagerDestroy(nint manager)
    {
        try
        {
            if (!NativeManager.TryRemove(manager, out NativeManager state))
            {
                return (int)(manager == 0 ? ResourceStatus.InvalidArgument : ResourceStatus.InvalidHandle);
            }

            state.DisposeAll();

            // A C host cannot ask the runtime inside this library to collect, and threads that waited here left a small
            // runtime wait structure that only a collection frees once they exit: destroying a manager is the moment.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_set_budget")]
    internal static int SetBudget(nint manager, int type, long maxBytes, long reservedBytes)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (!IsType(type) || maxBytes < 0 || reservedBytes < 0 || reservedBytes > maxBytes)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            m.Manager.SetBudget((ResourceType)type, new ResourceBudget(maxBytes, reservedBytes));
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_budget")]
    internal static int GetBudget(nint manager, int type, long* maxBytes, long* reservedBytes)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (!IsType(type) || maxBytes == null || reservedBytes == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            ResourceBudget budget = m.Manager.GetBudget((ResourceType)type);
            *maxBytes = budget.MaxBytes;
            *reservedBytes = budget.ReservedBytes;
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_acquire")]
    internal static int AcquireExport(
        nint manager, int type, long size, int alignment, uint flags, int mode, int timeoutMs, byte* name, ulong* handle) =>
        Acquire(manager, type, size, alignment, flags, mode, timeoutMs, name, null, ownerRequired: false, handle);

    [UnmanagedCallersOnly(EntryPoint = "fhr_acquire_owned")]
    internal static int AcquireOwnedExport(
        nint manager, int type, long size, int alignment, uint flags, int mode, int timeoutMs, byte* name, byte* owner, ulong* handle) =>
        Acquire(manager, type, size, alignment, flags, mode, timeoutMs, name, owner, ownerRequired: true, handle);

    [UnmanagedCallersOnly(EntryPoint = "fhr_resolve")]
    internal static void* Resolve(nint manager, ulong handle)
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
    internal static int ResolveEx(nint manager, ulong handle, void** address, long* size)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (address == null || size == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            ResourceStatus result = m.Manager.TryResolve(ResourceHandle.FromRawValue(handle), out nint found, out long length);
            *address = (void*)found;
            *size = length;
            return (int)result;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_release")]
    internal static int Release(nint manager, ulong handle)
    {
        try
        {
            return TryGet(manager, out NativeManager? m, out int status)
                ? (int)m.Manager.Release(ResourceHandle.FromRawValue(handle))
                : status;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_release_owned")]
    internal static int ReleaseOwned(nint manager, ulong handle, byte* owner)
    {
        char[]? rented = null;
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            Span<char> buffer = stackalloc char[StackNameChars];
            if (!TryDecode(owner, buffer, ref rented, out ReadOnlySpan<char> ownerName) || ownerName.IsEmpty)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            var resource = ResourceHandle.FromRawValue(handle);
            if (m.Manager.TryFindOwner(ownerName, out ResourceOwner named) != ResourceStatus.Ok)
            {
                // No owner has that name, so no handle is its: a live handle is someone else's (nothing is created).
                ResourceStatus live = m.Manager.TryResolve(resource, out _, out _);
                return (int)(live == ResourceStatus.Ok ? ResourceStatus.SharingFailure : live);
            }

            return (int)m.Manager.Release(resource, named);
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
        finally
        {
            ReturnBuffer(rented);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_share")]
    internal static int Share(nint manager, ulong handle, byte* owner, ulong* shared)
    {
        char[]? rented = null;
        try
        {
            if (shared != null)
            {
                *shared = 0;
            }

            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            Span<char> buffer = stackalloc char[StackNameChars];
            if (shared == null || !TryDecode(owner, buffer, ref rented, out ReadOnlySpan<char> ownerName) || ownerName.IsEmpty)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            // The new owner is created only for a handle that can be shared.
            var source = ResourceHandle.FromRawValue(handle);
            ResourceStatus result = m.Manager.TryGetInfo(source, out ResourceInfo info);
            if (result != ResourceStatus.Ok)
            {
                return (int)result;
            }

            if ((info.Flags & ResourceFlags.Shareable) == 0)
            {
                return (int)ResourceStatus.SharingFailure;
            }

            result = m.Manager.TryGetOwner(ownerName, null, out ResourceOwner named);
            if (result == ResourceStatus.Ok)
            {
                result = m.Manager.TryShare(source, named, out ResourceHandle copy);
                *shared = copy.RawValue;
            }

            return (int)result;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
        finally
        {
            ReturnBuffer(rented);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_find")]
    internal static int Find(nint manager, byte* name, ulong* handle)
    {
        char[]? rented = null;
        try
        {
            if (handle != null)
            {
                *handle = 0;
            }

            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            Span<char> buffer = stackalloc char[StackNameChars];
            if (handle == null || !TryDecode(name, buffer, ref rented, out ReadOnlySpan<char> text) || text.IsEmpty)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            ResourceStatus result = m.Manager.TryFind(text, out ResourceHandle found);
            *handle = found.RawValue;
            return (int)result;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
        finally
        {
            ReturnBuffer(rented);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_stats")]
    internal static int GetStats(nint manager, int type, NativeStats* stats)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (!IsType(type) || stats == null)
            {
                return (int)ResourceStatus.InvalidArgument;
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
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_region_stats")]
    internal static int GetRegionStats(nint manager, int kind, NativeRegionStats* stats)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if ((uint)kind > (uint)RegionKind.Sound || stats == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            if (m.Manager.Profile.FindRegion((RegionKind)kind) == null)
            {
                return (int)ResourceStatus.NotFound;
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
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_get_pool_stats")]
    internal static int GetPoolStats(nint manager, int type, int blockSize, NativePoolStats* stats)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (!IsType(type) || stats == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            ResourceStatus result = m.Manager.Pools.TryGetPoolStats((ResourceType)type, blockSize, out PoolStats p);
            if (result == ResourceStatus.Ok)
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

            return (int)result;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_live_count")]
    internal static int LiveCount(nint manager, long* count)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (count == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            *count = m.Manager.LiveCount;
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_defragment")]
    internal static int Defragment(nint manager, int region, long maxBytes, NativeDefragStats* stats)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if ((uint)region > (uint)RegionKind.Sound || maxBytes < 0 || stats == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            DefragmentationStats s = m.Manager.Defragment((RegionKind)region, maxBytes);
            *stats = new NativeDefragStats
            {
                Moves = s.Moves,
                Skipped = s.Skipped,
                BytesMoved = s.BytesMoved,
                LargestFreeBlockBefore = s.LargestFreeBlockBefore,
                LargestFreeBlockAfter = s.LargestFreeBlockAfter,
            };
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_pin")]
    internal static int Pin(nint manager, ulong handle)
    {
        try
        {
            return TryGet(manager, out NativeManager? m, out int status) ? (int)m.Manager.Pin(ResourceHandle.FromRawValue(handle)) : status;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_unpin")]
    internal static int Unpin(nint manager, ulong handle)
    {
        try
        {
            return TryGet(manager, out NativeManager? m, out int status) ? (int)m.Manager.Unpin(ResourceHandle.FromRawValue(handle)) : status;
        }
        catch (InvalidOperationException)
        {
            return (int)ResourceStatus.InvalidArgument; // not pinned: an unpin without its pin
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_snapshot_json")]
    internal static int SnapshotJson(nint manager, byte* buffer, nuint capacity, nuint* needed)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (needed == null || (buffer == null && capacity != 0))
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            byte[] json = m.Manager.GetSnapshotUtf8();
            *needed = (nuint)json.Length + 1; // and the terminating NUL
            if (capacity < (nuint)json.Length + 1)
            {
                return (int)ResourceStatus.CapacityExceeded; // the buffer is left untouched
            }

            json.CopyTo(new Span<byte>(buffer, json.Length));
            buffer[json.Length] = 0;
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_register_pressure_callback")]
    internal static int RegisterPressure(
        nint manager, delegate* unmanaged<void*, int, int, int, long, void> callback, void* user, long* registration)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (callback == null || registration == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            *registration = m.AddRegistration(m.Manager.RegisterPressureCallback(new NativePressureCallback(callback, user).Invoke));
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_register_reclamation_callback")]
    internal static int RegisterReclamation(
        nint manager, int type, delegate* unmanaged<void*, int, long, long> callback, void* user, long* registration)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (!IsType(type) || callback == null || registration == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            *registration = m.AddRegistration(
                m.Manager.RegisterReclamationCallback((ResourceType)type, new NativeReclamationCallback(callback, user).Invoke));
            return (int)ResourceStatus.Ok;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_unregister_callback")]
    internal static int Unregister(nint manager, long registration)
    {
        try
        {
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            return (int)(m.RemoveRegistration(registration) ? ResourceStatus.Ok : ResourceStatus.NotFound);
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "fhr_status_string")]
    internal static byte* StatusString(int status)
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
        nint manager, int type, long size, int alignment, uint flags, int mode, int timeoutMs, byte* name, byte* owner, bool ownerRequired, ulong* handle)
    {
        char[]? rentedName = null;
        char[]? rentedOwner = null;
        try
        {
            if (handle == null)
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            *handle = 0;
            if (!TryGet(manager, out NativeManager? m, out int status))
            {
                return status;
            }

            if (!IsType(type) || size <= 0 || (uint)mode > (uint)AcquisitionMode.Emergency || flags > ushort.MaxValue
                || (ownerRequired && owner == null))
            {
                return (int)ResourceStatus.InvalidArgument;
            }

            Span<char> nameBuffer = stackalloc char[StackNameChars];
            Span<char> ownerBuffer = stackalloc char[StackNameChars];
            scoped ReadOnlySpan<char> nameText = default;
            if (name != null && (!TryDecode(name, nameBuffer, ref rentedName, out nameText) || nameText.IsEmpty))
            {
                return (int)ResourceStatus.InvalidArgument; // "" is not a name: pass NULL for none
            }

            var metadata = new ResourceMetadata((ResourceType)type, size, alignment, (ResourceFlags)flags); // throws on bad alignment/flags
            ResourceOwner named = ResourceOwner.None;
            if (owner != null)
            {
                if (!TryDecode(owner, ownerBuffer, ref rentedOwner, out ReadOnlySpan<char> ownerText) || ownerText.IsEmpty)
                {
                    return (int)ResourceStatus.InvalidArgument;
                }

                ResourceStatus ownerStatus = m.Manager.TryGetOwner(ownerText, null, out named);
                if (ownerStatus != ResourceStatus.Ok)
                {
                    return (int)ownerStatus; // CapacityExceeded: the manager has MaxOwners owners
                }
            }

            TimeSpan timeout = timeoutMs < 0 ? Timeout.InfiniteTimeSpan : new TimeSpan(timeoutMs * TimeSpan.TicksPerMillisecond);
            ResourceStatus result = m.Manager.TryAcquire(in metadata, out ResourceHandle acquired, nameText, (AcquisitionMode)mode, timeout, named);
            *handle = acquired.RawValue;
            return (int)result;
        }
        catch (Exception exception)
        {
            return StatusOf(exception);
        }
        finally
        {
            ReturnBuffer(rentedName);
            ReturnBuffer(rentedOwner);
        }
    }

    private static bool IsType(int type) => (uint)type <= (uint)ResourceType.Custom;

    /// <summary>Looks up a manager id; on failure, the status to return (NULL: invalid argument; unknown: invalid handle).</summary>
    private static bool TryGet(nint manager, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NativeManager? found, out int status)
    {
        if (manager == 0)
        {
            found = null;
            status = (int)ResourceStatus.InvalidArgument;
            return false;
        }

        if (!NativeManager.TryGet(manager, out NativeManager m))
        {
            found = null;
            status = (int)ResourceStatus.InvalidHandle;
            return false;
        }

        found = m;
        status = (int)ResourceStatus.Ok;
        return true;
    }

    /// <summary>Decodes a NUL-terminated UTF-8 string into <paramref name="buffer"/> (or a pooled array when longer).</summary>
    /// <returns>False for NULL; invalid UTF-8 throws an <see cref="ArgumentException"/> (a status of InvalidArgument).</returns>
    private static bool TryDecode(byte* utf8, Span<char> buffer, scoped ref char[]? rented, out ReadOnlySpan<char> text)
    {
        text = default;
        if (utf8 == null)
        {
            return false;
        }

        ReadOnlySpan<byte> bytes = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(utf8);
        if (bytes.Length > buffer.Length)
        {
            // One char per byte at most, so the byte count bounds the char count.
            rented = ArrayPool<char>.Shared.Rent(bytes.Length);
            buffer = rented;
        }

        int length = s_strictUtf8.GetChars(bytes, buffer);
        text = buffer[..length];
        return true;
    }

    private static void ReturnBuffer(char[]? rented)
    {
        if (rented != null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }
    }

    private static string? Utf8String(byte* utf8) =>
        utf8 == null ? null : s_strictUtf8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(utf8));

    /// <summary>Profile names over the ABI are exact (case-insensitive): no surrounding or embedded control characters or
    /// spaces. The environment variable is trimmed, as <see cref="PlatformProfile.Detect"/> does.</summary>
    private static bool IsExactProfileName(string name, bool trim)
    {
        ReadOnlySpan<char> text = trim ? name.AsSpan().Trim() : name;
        if (text.IsEmpty)
        {
            return false;
        }

        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The status for an exception caught at the boundary.</summary>
    private static int StatusOf(Exception exception) => exception switch
    {
        ResourceException resource => (int)resource.Status,
        ObjectDisposedException => (int)ResourceStatus.InvalidHandle,   // destroyed on another thread meanwhile
        ArgumentException => (int)ResourceStatus.InvalidArgument,        // includes invalid UTF-8 (DecoderFallbackException)
        OutOfMemoryException => (int)ResourceStatus.OutOfMemory,
        IssuerLimitException => (int)ResourceStatus.CapacityExceeded,   // every handle tag of the process is taken
        _ => (int)ResourceStatus.InternalError,
    };

    /// <summary>A C pressure callback with its user pointer (one object per registration, none per call).</summary>
    private sealed class NativePressureCallback(delegate* unmanaged<void*, int, int, int, long, void> callback, void* user)
    {
        private readonly delegate* unmanaged<void*, int, int, int, long, void> _callback = callback;
        private readonly void* _user = user;

        public void Invoke(in PressureChange change) =>
            _callback(_user, (int)change.Type, (int)change.Previous, (int)change.Current, change.Stats.CurrentBytes);
    }

    /// <summary>A C reclamation callback with its user pointer.</summary>
    private sealed class NativeReclamationCallback(delegate* unmanaged<void*, int, long, long> callback, void* user)
    {
        private readonly delegate* unmanaged<void*, int, long, long> _callback = callback;
        private readonly void* _user = user;

        public long Invoke(ResourceType type, long requestedBytes) => _callback(_user, (int)type, requestedBytes);
    }
}
