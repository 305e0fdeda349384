namespace Flight.Hal.Resources.Tests;

/// <summary>The README's code, compiled and run: if an example stops compiling or behaving as the README says, this fails.</summary>
public class ReadmeExamplesTests
{
    private struct Transform
    {
        public float X;
    }

    [Fact]
    public void GenerationalSlotMap_Example()
    {
        using var table = new HandleTable<Transform>(capacity: 1024);

        Handle<Transform> player = table.Allocate(new Transform { X = 1 });
        table.Get(player).X += 2;
        Assert.Equal(3f, table.Get(player).X);

        Assert.Equal(ResourceStatus.Ok, table.Free(player));
        ResourceStatus again = table.Free(player);
        bool alive = table.Contains(player);
        Assert.Equal(ResourceStatus.StaleHandle, again);
        Assert.False(alive);

        table.Allocate(new Transform { X = 5 });
        foreach (HandleTable<Transform>.Entry entry in table)
        {
            entry.Value.X = 0;
        }

        foreach (HandleTable<Transform>.Entry entry in table)
        {
            Assert.Equal(0f, entry.Value.X);
        }
    }

    [Fact]
    public void FixedSizeBlocks_Example()
    {
        using var pool = new SlabPool(new PoolConfig
        {
            BlockSize = 4096,
            Alignment = 64,
            InitialCount = 16,
            MaxCount = 256,
            ThreadSafe = true,
        });

        Assert.Equal(ResourceStatus.Ok, pool.TryRent(out ResourceHandle block));
        Span<byte> bytes = pool.GetSpan(block);
        bytes.Clear();
        Assert.Equal(4096, bytes.Length);
        Assert.Equal(ResourceStatus.Ok, pool.TryResolve(block, out nint address));
        Assert.Equal(0, address % 64);
        Assert.Equal(ResourceStatus.Ok, pool.Return(block));
        Assert.Equal(ResourceStatus.StaleHandle, pool.Return(block));
    }

    [Fact]
    public void PoolsRoutedByTypeAndSize_Example()
    {
        using var pools = new PoolManager(
        [
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 64, MaxCount = 1024 },
            new PoolConfig { Type = ResourceType.Memory, BlockSize = 4096, MaxCount = 64 },
        ]);

        Assert.Equal(ResourceStatus.Ok, pools.TryRent(ResourceType.Memory, size: 100, alignment: 16, out ResourceHandle handle));
        PoolStats stats = pools.GetPoolStats(ResourceType.Memory, 4096);
        Assert.Equal(1, stats.UsedBlocks);
        Assert.Equal(ResourceStatus.Ok, pools.Return(handle));
        Assert.Equal(0, pools.GetPoolStats(ResourceType.Memory, 4096).UsedBlocks);
    }

    [Fact]
    public void FixedRegion_Example()
    {
        PlatformProfile dc = PlatformProfile.Get("dreamcast");
        using var vram = new Arena(dc.FindRegion(RegionKind.Video)!.ToArenaConfig());

        ResourceStatus status = vram.TryAllocate(512 * 512 * 2, alignment: 0, out ResourceHandle texture);
        Assert.Equal(ResourceStatus.Ok, status);
        vram.TryResolve(texture, out nint address, out long size);
        Assert.Equal(512 * 512 * 2, size);
        Assert.Equal(0, address % 32);
        ArenaStats stats = vram.GetStats();
        Assert.Equal(8 * 1024 * 1024 - size, stats.FreeBytes);
        Assert.Equal(ResourceStatus.Ok, vram.Free(texture));
    }

    [Fact]
    public void BudgetsAndPressure_Example()
    {
        var budgets = new ResourceBudgetManager(PlatformProfile.Dreamcast.Budgets);
        var lines = new List<string>();

        using IDisposable onPressure = budgets.RegisterPressureCallback((in PressureChange change) =>
            lines.Add($"{change.Type}: {change.Previous} -> {change.Current} at {change.Stats.CurrentBytes} bytes"));
        using IDisposable onShortage = budgets.RegisterReclamationCallback(ResourceType.Memory,
            (type, requestedBytes) => 0);

        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Memory, 4096));
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(ResourceType.Memory, 4096, BudgetMode.UseReserve));
        budgets.Release(ResourceType.Memory, 8192);
        Assert.Equal(0, budgets.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Empty(lines); // 8 KiB of 9.6 MiB never leaves None
        Assert.Equal(ResourceStatus.BudgetExceeded, budgets.TryReserve(ResourceType.Memory, 9 * 1024 * 1024));
        Assert.Equal(1, budgets.GetStats(ResourceType.Memory).Reclamations);
    }

    [Fact]
    public void ResourceManager_Example()
    {
        LeakReport? leaks = null;
        var lines = new List<string>();
        var manager = new ResourceManager(PlatformProfile.Get("dreamcast"),
            new ResourceManagerOptions { LeakReported = report => leaks = report });

        var textureInfo = new ResourceMetadata(ResourceType.Hardware, 64 * 1024, alignment: 32, ResourceFlags.GpuAccessible);
        ResourceStatus status = manager.TryAcquire(textureInfo, out ResourceHandle texture, name: "title.tex");
        Assert.Equal(ResourceStatus.Ok, status);
        Span<byte> texels = manager.Resolve(texture);
        Assert.Equal(64 * 1024, texels.Length);
        Assert.Equal(64 * 1024, manager.GetRegionStats(RegionKind.Video).UsedBytes);
        Assert.Equal(ResourceStatus.Ok, manager.Release(texture));
        Assert.Equal(ResourceStatus.StaleHandle, manager.Release(texture));
        Assert.True(manager.Resolve(texture).IsEmpty);

        var meshInfo = new ResourceMetadata(ResourceType.Memory, 256 * 1024);
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(meshInfo, out ResourceHandle mesh, mode: AcquisitionMode.Timeout, timeout: TimeSpan.FromMilliseconds(5)));
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(meshInfo, out ResourceHandle spare, mode: AcquisitionMode.Emergency));

        using (ScopedResource scratch = manager.AcquireScoped(new ResourceMetadata(ResourceType.Memory, 512)))
        {
            scratch.Span.Clear();
        }

        using (ResourceScope frame = manager.BeginScope())
        {
            Span<float> vertices = frame.AcquireSpan<float>(1024);
            Assert.Equal(1024, vertices.Length);
            frame.Acquire(new ResourceMetadata(ResourceType.Memory, 2048));
            Assert.Equal(2, frame.Count);
        }

        Assert.Equal(2 * 256 * 1024, manager.GetStats(ResourceType.Memory).CurrentBytes); // scratch and the frame are gone

        ResourceRef<System.Numerics.Matrix4x4> camera = manager.Acquire<System.Numerics.Matrix4x4>();
        camera.Value = System.Numerics.Matrix4x4.Identity;
        Assert.True(camera.Value.IsIdentity);
        camera.Dispose();
        Assert.False(camera.IsAlive);

        ResourceOwner graphics = manager.GetOwner("GraphicsDriver");
        ResourceOwner audio = manager.GetOwner("AudioDriver");
        ResourceHandle vb = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 16 * 1024, flags: ResourceFlags.Shareable), owner: graphics);
        ResourceHandle audioVb = manager.Share(vb, audio);
        Assert.Equal(ResourceStatus.Ok, manager.Release(vb, graphics));
        Assert.False(manager.Resolve(audioVb).IsEmpty);
        Assert.Equal(ResourceStatus.Ok, manager.Release(audioVb, audio));

        manager.SetBudget(ResourceType.Custom, new ResourceBudget(maxBytes: 1 << 20, reservedBytes: 64 << 10));
        using IDisposable onPressure = manager.RegisterPressureCallback((in PressureChange change) =>
            lines.Add($"{change.Type}: {change.Previous} -> {change.Current}"));
        using IDisposable onShortage = manager.RegisterReclamationCallback(ResourceType.Memory,
            (type, requestedBytes) => 0);
        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(2 * 256 * 1024, stats.CurrentBytes);
        ResourceHandle big = manager.Acquire(new ResourceMetadata(ResourceType.Custom, 900 << 10));
        Assert.Equal(["Custom: None -> High"], lines);
        manager.Release(big);

        manager.Release(mesh);
        manager.Dispose();
        Assert.NotNull(leaks);
        LeakedResource leaked = Assert.Single(leaks.Resources);
        Assert.Equal(spare, leaked.Handle);
        Assert.Equal(256 * 1024, leaked.Size);
    }
}
