using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Handles;

/// <summary>Handles kept past their issuer's disposal, presented to the issuers created after it (issue 9 item 2).
/// Issuer tags are 10 bits and are reused, so without more than the tag a kept handle would equal a live one.</summary>
public class IssuerReuseTests
{
    private const int Issuers = 100_000;

    [Fact]
    public void HandleTable_HandlesFromDisposedTables_AreRejectedByEveryLaterTable()
    {
        // Arrange: every table issues its first entry at slot 0, so an old handle and a new one differ only in what
        // distinguishes their issuers.
        var keptByTag = new Dictionary<int, List<Handle<long>>>();
        int rejected = 0;

        for (int i = 0; i < Issuers; i++)
        {
            // Act
            using var table = new HandleTable<long>(4);
            Handle<long> fresh = table.Allocate(i);
            if (keptByTag.TryGetValue(table.Tag, out List<Handle<long>>? kept))
            {
                foreach (Handle<long> old in kept)
                {
                    // Assert: never equal to a live handle, never resolved, never freed.
                    Assert.NotEqual(fresh, old);
                    Assert.False(table.Contains(old));
                    Assert.Throws<ArgumentException>(() => table.Free(old));
                    Assert.Throws<ArgumentException>(() => table.TryGet(old, out _));
                    rejected++;
                }
            }
            else
            {
                keptByTag[table.Tag] = kept = [];
            }

            Assert.Equal(i, table.Get(fresh));
            if (kept.Count < 4)
            {
                kept.Add(fresh);
            }
        }

        Assert.True(rejected > Issuers / 2, $"only {rejected} checks: tags were not reused");
    }

    [Fact]
    public void SlabPool_HandlesFromDisposedPools_AreRejectedByEveryLaterPool()
    {
        var keptByTag = new Dictionary<int, List<ResourceHandle>>();
        int rejected = 0;
        var config = new PoolConfig { BlockSize = 16, InitialCount = 1, MaxCount = 1 };

        for (int i = 0; i < Issuers; i++)
        {
            using var pool = new SlabPool(config);
            ResourceHandle fresh = pool.Rent();
            if (keptByTag.TryGetValue(pool.Tag, out List<ResourceHandle>? kept))
            {
                foreach (ResourceHandle old in kept)
                {
                    Assert.NotEqual(fresh, old);
                    Assert.False(pool.Contains(old));
                    Assert.Throws<ArgumentException>(() => pool.Return(old));
                    Assert.Throws<ArgumentException>(() => pool.TryGetSpan(old, out _));
                    rejected++;
                }
            }
            else
            {
                keptByTag[pool.Tag] = kept = [];
            }

            Assert.True(pool.Contains(fresh));
            if (kept.Count < 4)
            {
                kept.Add(fresh);
            }
        }

        Assert.True(rejected > Issuers / 2, $"only {rejected} checks: tags were not reused");
    }

    [Fact]
    public void Arena_HandlesFromDisposedArenas_AreRejectedByEveryLaterArena()
    {
        var kept = new List<ResourceHandle>();
        var config = new ArenaConfig { Size = 4096, MaxAllocations = 4 };

        for (int i = 0; i < 5_000; i++)
        {
            using var arena = new Arena(config);
            ResourceHandle fresh = arena.Allocate(64);
            foreach (ResourceHandle old in kept)
            {
                if (old.RawValue == fresh.RawValue)
                {
                    Assert.Fail($"arena {i} issued {fresh}, equal to a handle of a disposed arena");
                }
            }

            foreach (ResourceHandle old in kept.Where(h => (h.RawValue & 0x3FF) == (fresh.RawValue & 0x3FF)))
            {
                Assert.False(arena.Contains(old));
                Assert.Throws<ArgumentException>(() => arena.Free(old));
            }

            if (i % 7 == 0)
            {
                kept.Add(fresh);
            }
        }
    }

    [Fact]
    public void Manager_HandlesFromDisposedManagers_AreInvalid_AndNothingIsFreed()
    {
        // Arrange: each manager takes several tags (pools, registry, arenas), so a few hundred managers reuse every tag.
        var kept = new List<ResourceHandle>();
        int checks = 0;

        for (int i = 0; i < 2_000; i++)
        {
            using var manager = new ResourceManager(TestProfiles.Small());
            ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 32));
            ResourceHandle named = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 32), name: "n");

            // Act and assert: every kept handle is refused and changes nothing.
            foreach (ResourceHandle old in kept)
            {
                Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(old));
                Assert.Equal(0, manager.ResolveAddress(old));
                Assert.Equal(ResourceStatus.InvalidHandle, manager.TryGetInfo(old, out _));
                checks++;
            }

            Assert.Equal(64, manager.GetStats(ResourceType.Memory).CurrentBytes);
            Assert.True(manager.Contains(pooled));
            Assert.True(manager.Contains(named));
            if (i % 20 == 0)
            {
                kept.Add(pooled);
                kept.Add(named);
            }
        }

        Assert.True(checks > 10_000);
    }

    [Fact]
    public void TagsOfDisposedIssuers_AreReused_SoIssuersNeverRunOut()
    {
        int before = HandleTagAllocator.LiveCount;
        for (int i = 0; i < 5 * HandleLayout.MaxTag; i++)
        {
            new HandleTable<int>(1).Dispose();
        }

        Assert.True(HandleTagAllocator.LiveCount <= before + 8);
    }
}
