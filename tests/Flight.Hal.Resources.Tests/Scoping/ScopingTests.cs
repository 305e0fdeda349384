using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Scoping;

public class ScopingTests
{
    private struct Transform
    {
        public float X;
        public float Y;
        public float Z;
        public int Parent;
    }

    [Fact]
    public void ResourceRef_GivesRefAccess_AndReleasesOnDispose()
    {
        using var manager = new ResourceManager(TestProfiles.Small());

        ResourceRef<Transform> transform = manager.Acquire<Transform>();
        Assert.Equal(0, transform.Value.Parent); // cleared
        transform.Value.X = 1.5f;
        transform.Value.Y = 2.5f;
        transform.Value.Z = 3.5f;
        transform.Value.Parent = 7;

        Assert.Equal(1.5f + 2.5f + 3.5f, transform.Value.X + transform.Value.Y + transform.Value.Z);
        Assert.Equal(7, transform.AsSpan()[0].Parent);
        Assert.Equal(16, manager.GetStats(ResourceType.Memory).CurrentBytes);
        transform.Dispose();
        Assert.False(transform.IsAlive);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(ResourceStatus.StaleHandle, Assert.Throws<ResourceException>(() => transform.Value.X).Status);
    }

    [Fact]
    public void ResourceRef_CopiesDisposedTwice_DoNotTouchTheNextOccupant()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceRef<long> original = manager.Acquire<long>();
        ResourceRef<long> copy = original;

        original.Dispose();
        ResourceRef<long> next = manager.Acquire<long>(); // very likely the same block, new generation
        next.Value = 99;
        copy.Dispose();
        original.Dispose();

        Assert.True(next.IsAlive);
        Assert.Equal(99, next.Value);
        Assert.Equal(8, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(ResourceStatus.StaleHandle, copy.Release());
    }

    [Fact]
    public void ResourceRef_DefaultAndAfterManagerDispose_AreHarmless()
    {
        ResourceRef<int> none = default;
        Assert.True(none.IsNull);
        Assert.False(none.IsAlive);
        Assert.Equal(ResourceStatus.InvalidHandle, none.Release());
        none.Dispose();
        Assert.Throws<ResourceException>(() => none.Value);

        var manager = new ResourceManager(TestProfiles.Small());
        ResourceRef<int> orphan = manager.Acquire<int>();
        manager.Dispose();
        orphan.Dispose(); // a field disposed after its manager: nothing happens
        Assert.False(orphan.IsAlive);
    }

    [Fact]
    public void ScopedResource_IsReleasedByUsing_AndCopiesAreSafe()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle handle;
        using (ScopedResource scoped = manager.AcquireScoped(new ResourceMetadata(ResourceType.Memory, 128)))
        {
            handle = scoped.Handle;
            scoped.Span.Fill(3);
            Assert.Equal(128, scoped.Span.Length);
            ScopedResource copy = scoped;
            copy.Dispose(); // released early through a copy ...
            Assert.False(manager.Contains(handle));
        } // ... so the using's Dispose meets a stale handle and does nothing

        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(1, manager.GetStats(ResourceType.Memory).Releases);
    }

    [Fact]
    public void ResourceScope_ReleasesEverythingAtOnce_AcrossManyPages()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var handles = new List<ResourceHandle>();
        using (ResourceScope frame = manager.BeginScope())
        {
            for (int i = 0; i < 100; i++)
            {
                handles.Add(frame.Acquire(new ResourceMetadata(ResourceType.Memory, 100 + (i % 3 * 100))));
            }

            Span<float> scratch = frame.AcquireSpan<float>(256);
            scratch.Fill(1f);
            Assert.Equal(101, frame.Count);
            Assert.Equal(101, manager.LiveCount);
        }

        Assert.All(handles, h => Assert.False(manager.Contains(h)));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        Assert.Equal(0, manager.LiveCount);
        Assert.Equal(0, Pages(manager).Stats.UsedBlocks);
    }

    [Fact]
    public void ResourceScope_CopyDisposedTwice_DoesNothingTheSecondTime()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceScope scope = manager.BeginScope();
        scope.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        ResourceScope copy = scope;

        scope.Dispose();
        ResourceScope next = manager.BeginScope(); // likely reuses the page
        ResourceHandle kept = next.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        copy.Dispose();

        Assert.True(manager.Contains(kept));
        Assert.Equal(1, next.Count);
        Assert.Equal(0, copy.Count);
        Assert.Equal(ResourceStatus.StaleHandle, copy.TryAcquire(new ResourceMetadata(ResourceType.Memory, 64), out _));
        next.Dispose();
        Assert.Equal(0, manager.LiveCount);
    }

    [Fact]
    public void ResourceScope_HandlesReleasedByHand_AreSkipped()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using (ResourceScope scope = manager.BeginScope())
        {
            ResourceHandle early = scope.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
            scope.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
            Assert.Equal(ResourceStatus.Ok, manager.Release(early));
        }

        ResourceStats stats = manager.GetStats(ResourceType.Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(2, stats.Releases);
    }

    [Fact]
    public void ResourceScope_OutOfPages_ReleasesTheResourceAndSaysSo()
    {
        using var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { MaxScopePages = 1 });
        using ResourceScope scope = manager.BeginScope();
        for (int i = 0; i < 30; i++)
        {
            scope.Acquire(new ResourceMetadata(ResourceType.Custom, 16));
        }

        ResourceStatus status = scope.TryAcquire(new ResourceMetadata(ResourceType.Custom, 16), out ResourceHandle handle);

        Assert.Equal(ResourceStatus.PoolExhausted, status);
        Assert.True(handle.IsNull);
        Assert.Equal(30 * 16, manager.GetStats(ResourceType.Custom).CurrentBytes);
        Assert.Equal(ResourceStatus.PoolExhausted, manager.TryBeginScope(out _));
    }

    [Fact]
    public void ScopedAndRefPaths_AllocateNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var metadata = new ResourceMetadata(ResourceType.Memory, 64);

        long bytes = Allocations.Measure(() =>
        {
            using (ScopedResource scoped = manager.AcquireScoped(metadata))
            {
                scoped.Span[0] = 1;
            }

            using (ResourceRef<long> value = manager.Acquire<long>())
            {
                value.Value = 5;
            }

            using ResourceScope frame = manager.BeginScope();
            for (int i = 0; i < 40; i++)
            {
                frame.Acquire(metadata);
            }
        });

        Assert.Equal(0, bytes);
    }

    private static HandleChain Pages(ResourceManager manager)
    {
        Assert.Equal(ResourceStatus.Ok, HandleChain.TryGetFor(manager, out HandleChain pages));
        return pages;
    }

    [Fact]
    public void Add_TakesAHandleIntoTheScope_AndThrowsWhenTheScopeCannot_LeavingTheHandleToTheCaller()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle kept = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
        ResourceHandle late = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));

        ResourceScope scope = manager.BeginScope();
        scope.Add(kept);
        scope.Dispose();
        Assert.False(manager.Contains(kept)); // released with the scope

        ResourceStatus status = ResourceStatus.Ok;
        try
        {
            scope.Add(late); // the scope is gone
        }
        catch (ResourceException exception)
        {
            status = exception.Status;
        }

        Assert.Equal(ResourceStatus.StaleHandle, status);
        Assert.True(manager.Contains(late)); // still the caller's
        Assert.Equal(ResourceStatus.Ok, manager.Release(late));
    }
}
