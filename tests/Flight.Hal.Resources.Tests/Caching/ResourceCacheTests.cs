using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Caching;

/// <summary>What a <see cref="ResourceCache{T}"/> promises, one behaviour per test, with the manager's figures checked
/// to the byte.</summary>
public class ResourceCacheTests
{
    private const long Ordinary = TestProfiles.MemoryBudget - TestProfiles.MemoryReserve; // 56 KiB

    /// <summary>A loaded asset: knows whether it was disposed.</summary>
    public sealed class Asset(string key) : IDisposable
    {
        public string Key { get; } = key;

        public int Disposals { get; private set; }

        public void Dispose() => Disposals++;
    }

    /// <summary>A loader that acquires <paramref name="bytes"/> of <paramref name="type"/> and counts its calls.</summary>
    private sealed class Loader(long bytes, ResourceType type = ResourceType.Memory)
    {
        public int Calls;

        public CacheLoader<Asset> Load => context =>
        {
            Interlocked.Increment(ref Calls);
            context.Acquire(new ResourceMetadata(type, bytes));
            return new Asset(context.Key);
        };
    }

    private static long MemoryBytes(ResourceManager manager) => manager.GetStats(ResourceType.Memory).CurrentBytes;

    [Fact]
    public void AMiss_Loads_AndAHit_ReturnsTheSameEntry_WithoutLoadingAgain()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager, new() { Name = "textures" });
        var loader = new Loader(4096);

        using CacheRef<Asset> first = cache.GetOrLoad("textures/hero.pvr", loader.Load);
        using CacheRef<Asset> second = cache.GetOrLoad("textures/hero.pvr".AsSpan(), loader.Load);

        Assert.Equal(1, loader.Calls);
        Assert.Same(first.Value, second.Value);
        Assert.Equal("textures/hero.pvr", first.Key);
        CacheStats stats = cache.GetStats();
        Assert.Equal((1, 1, 1, 1, 0, 4096L), (stats.Misses, stats.Hits, stats.Loads, stats.Entries, stats.Unreferenced, stats.ResidentBytes));
        Assert.Equal(4096, MemoryBytes(manager));
        Assert.Equal(4096, cache.GetResidentBytes(ResourceType.Memory));
        Assert.Equal("cache:textures", cache.Owner.Name);
        Span<ResourceHandle> handles = stackalloc ResourceHandle[2];
        Assert.Equal(1, first.GetResources(handles));
        Assert.Equal(cache.Owner.Id, manager.GetInfo(handles[0]).Owner.Id);
        Assert.Equal("textures/hero.pvr", manager.GetInfo(handles[0]).Name);
    }

    [Fact]
    public void AReleasedEntry_StaysResidentUnreferenced_UntilUnloadUnused_ThenItsHookRunsOnce_ItsValueIsDisposed_AndItsMemoryGoes()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var unloaded = new List<(string, CacheUnloadReason)>();
        using var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (key, _, reason) => unloaded.Add((key, reason)) });
        var loader = new Loader(1000);
        CacheRef<Asset> reference = cache.GetOrLoad("a", loader.Load);
        Asset asset = reference.Value;

        Assert.Equal(ResourceStatus.Ok, reference.Release());
        Assert.Equal(1, cache.GetStats().Unreferenced);
        Assert.True(cache.Contains("a"));
        Assert.Equal(1000, MemoryBytes(manager));
        Assert.Equal(ResourceStatus.Ok, cache.TryGet("a", out CacheRef<Asset> again)); // a hit, no load
        again.Dispose();
        Assert.Equal(1, loader.Calls);

        Assert.Equal(1000, cache.UnloadUnused());
        Assert.Equal([("a", CacheUnloadReason.Unused)], unloaded);
        Assert.Equal(1, asset.Disposals);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.False(cache.Contains("a"));
        Assert.Equal(ResourceStatus.NotFound, cache.TryGet("a", out _));
        Assert.Equal(1, cache.GetStats().UnloadedUnused);
        Assert.Equal(0, cache.UnloadUnused());
    }

    [Fact]
    public void ACopyReleasedTwice_NeverDropsAnotherHoldersCount()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        var loader = new Loader(512);
        CacheRef<Asset> mine = cache.GetOrLoad("a", loader.Load);
        CacheRef<Asset> theirs = cache.GetOrLoad("a", loader.Load);
        CacheRef<Asset> copy = mine;

        Assert.Equal(ResourceStatus.Ok, mine.Release());
        Assert.Equal(ResourceStatus.StaleHandle, copy.Release());
        Assert.Equal(ResourceStatus.StaleHandle, mine.Release());

        Assert.Equal(0, cache.UnloadUnused()); // "theirs" still holds it
        Assert.Equal(1, cache.GetStats().Referenced);
        Assert.True(theirs.IsAlive);
        Assert.Equal(ResourceStatus.Ok, theirs.Release());
        Assert.Equal(512, cache.UnloadUnused());
        Assert.Equal(ResourceStatus.InvalidHandle, default(CacheRef<Asset>).Release());
    }

    [Fact]
    public void Get_ReturnsALoadedEntry_AndThrowsNotFound_ForOneThatIsNot()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager, new() { Name = "sounds" });
        cache.GetOrLoad("music/title.ogg", new Loader(64).Load).Dispose();

        using (CacheRef<Asset> found = cache.Get("music/title.ogg"))
        {
            Assert.Equal("music/title.ogg", found.Value.Key);
        }

        var missing = Assert.Throws<ResourceException>(() => cache.Get("music/other.ogg".AsSpan()));
        Assert.Equal(ResourceStatus.NotFound, missing.Status);
        Assert.Contains("music/other.ogg", missing.Message);
        Assert.Equal(1, cache.GetStats().Hits);
    }

    [Fact]
    public void AddRef_IssuesAnIndependentReference()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        CacheRef<Asset> first = cache.GetOrLoad("a", new Loader(64).Load);
        CacheRef<Asset> second = first.AddRef();

        Assert.NotEqual(first, second);
        Assert.Equal(ResourceStatus.Ok, first.Release());
        Assert.Equal(ResourceStatus.Ok, second.Release());
        Assert.Throws<ResourceException>(() => first.AddRef()); // its own record is gone
        Assert.Equal(1, cache.GetStats().Unreferenced);
    }

    [Fact]
    public void AWeakReference_UpgradesWhileResident_AndNeverToALaterEntryUnderTheSameKey()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        var loader = new Loader(256);
        CacheWeakRef<Asset> weak;
        using (CacheRef<Asset> strong = cache.GetOrLoad("a", loader.Load))
        {
            weak = strong.ToWeak();
        }

        Assert.True(weak.IsAlive); // unreferenced but resident
        Assert.True(weak.TryUpgrade(out CacheRef<Asset> upgraded));
        Assert.Equal("a", upgraded.Value.Key);
        upgraded.Dispose();

        cache.UnloadUnused();
        Assert.False(weak.IsAlive);
        Assert.False(weak.TryUpgrade(out CacheRef<Asset> none));
        Assert.True(none.IsNull);

        using CacheRef<Asset> reloaded = cache.GetOrLoad("a", loader.Load); // may reuse the pooled entry object
        Assert.Equal(2, loader.Calls);
        Assert.False(weak.TryUpgrade(out _));
        Assert.False(default(CacheWeakRef<Asset>).TryUpgrade(out _));
    }

    [Fact]
    public void OverMaxBytes_TheLowestPriority_ThenTheLeastRecentlyUsed_IsEvictedFirst()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var evicted = new List<string>();
        using var cache = new ResourceCache<Asset>(manager, new()
        {
            MaxBytes = 4 * 1000,
            OnUnloaded = (key, _, reason) =>
            {
                Assert.Equal(CacheUnloadReason.OverCapacity, reason);
                evicted.Add(key);
            },
        });
        var loader = new Loader(1000);
        cache.GetOrLoad("high-old", loader.Load, ResourcePriority.High).Dispose();
        cache.GetOrLoad("normal-old", loader.Load).Dispose();
        cache.GetOrLoad("low", loader.Load, ResourcePriority.Low).Dispose();
        cache.GetOrLoad("normal-new", loader.Load).Dispose();
        cache.GetOrLoad("normal-old", loader.Load).Dispose(); // a hit makes it recent again
        Assert.Empty(evicted);

        using CacheRef<Asset> held = cache.GetOrLoad("fifth", loader.Load); // 5,000 > 4,000
        Assert.Equal(["low"], evicted);
        using CacheRef<Asset> sixth = cache.GetOrLoad("sixth", loader.Load);
        Assert.Equal(["low", "normal-new"], evicted);
        using CacheRef<Asset> seventh = cache.GetOrLoad("seventh", loader.Load);
        Assert.Equal(["low", "normal-new", "normal-old"], evicted);
        Assert.Equal(4000, cache.GetStats().ResidentBytes);
        Assert.Equal(3, cache.GetStats().EvictedOverCapacity);
        Assert.Equal(4000, MemoryBytes(manager));
    }

    [Fact]
    public void ReferencedEntries_AreNeverEvicted_EvenOverTheCap()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager, new() { MaxBytes = 1500 });
        var loader = new Loader(1000);
        using CacheRef<Asset> a = cache.GetOrLoad("a", loader.Load);
        using CacheRef<Asset> b = cache.GetOrLoad("b", loader.Load);

        Assert.Equal(2000, cache.GetStats().ResidentBytes);
        Assert.True(a.IsAlive && b.IsAlive);
        a.Dispose(); // now over the cap and unreferenced: evicted at once
        Assert.False(cache.Contains("a"));
        Assert.Equal(1000, MemoryBytes(manager));
    }

    [Fact]
    public void TheManagersReclamationRequest_EvictsOnlyUnreferencedEntriesOfTheTypeAsked_AndOnlyAsMuchAsNeeded()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        var memory = new Loader(8 * 1024);
        var hardware = new Loader(4 * 1024, ResourceType.Hardware);
        for (int i = 0; i < 6; i++)
        {
            cache.GetOrLoad($"mem{i}", memory.Load).Dispose(); // 48 KiB of Memory, unreferenced
        }

        cache.GetOrLoad("hw", hardware.Load).Dispose();
        using CacheRef<Asset> held = cache.GetOrLoad("held", memory.Load); // 56 KiB: the ordinary limit

        // Another system needs 12 KiB of Memory: the cache gives back the two oldest Memory entries, nothing more.
        ResourceHandle other = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 12 * 1024));

        Assert.False(cache.Contains("mem0"));
        Assert.False(cache.Contains("mem1"));
        Assert.True(cache.Contains("mem2"));
        Assert.True(cache.Contains("hw"));
        Assert.True(held.IsAlive);
        Assert.Equal(2, cache.GetStats().Reclaimed);
        Assert.Equal(Ordinary - (4 * 1024), MemoryBytes(manager));
        Assert.Equal(4 * 1024, cache.GetResidentBytes(ResourceType.Hardware));
        manager.Release(other);
    }

    [Fact]
    public void AtThePressureLevelAsked_UnreferencedEntriesOfThatType_AreEvicted_UntilItFalls()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager, new() { EvictAtPressure = ResourcePressure.Medium }); // 50 %
        var loader = new Loader(10 * 1024);
        cache.GetOrLoad("a", loader.Load).Dispose();
        cache.GetOrLoad("b", loader.Load).Dispose(); // 20 KiB of 64: Low

        ResourceHandle other = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 14 * 1024)); // 34 KiB: Medium

        Assert.False(cache.Contains("a")); // 24 KiB: Low again, so "b" stays
        Assert.True(cache.Contains("b"));
        Assert.Equal(1, cache.GetStats().EvictedByPressure);
        Assert.True(manager.GetPressure(ResourceType.Memory) < ResourcePressure.Medium);
        manager.Release(other);
    }

    [Fact]
    public void Unload_RefusesAReferencedEntry_UnlessForced_ThenItsReferencesAreStale_AndSaySo()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var reasons = new List<CacheUnloadReason>();
        using var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (_, _, reason) => reasons.Add(reason) });
        CacheRef<Asset> held = cache.GetOrLoad("level1/boss", new Loader(2048).Load);
        CacheRef<Asset> copy = held;

        Assert.Equal(ResourceStatus.SharingFailure, cache.Unload("level1/boss"));
        Assert.True(held.IsAlive);
        Assert.Equal(ResourceStatus.NotFound, cache.Unload("nothing"));

        Assert.Equal(ResourceStatus.Ok, cache.Unload("level1/boss", force: true));
        Assert.Equal([CacheUnloadReason.Forced], reasons);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.False(held.IsAlive);
        Assert.False(held.TryGetValue(out _));
        var stale = Assert.Throws<ResourceException>(() => held.Value);
        Assert.Equal(ResourceStatus.StaleHandle, stale.Status);
        Assert.Contains("unloaded", stale.Message);
        Assert.Equal(ResourceStatus.StaleHandle, held.Release());
        Assert.Equal(ResourceStatus.StaleHandle, copy.Release());
        CacheStats stats = cache.GetStats();
        Assert.Equal((0, 0, 1L), (stats.Entries, stats.Referenced, stats.ForcedUnloads));
    }

    [Fact]
    public void Replace_LoadsANewVersion_HoldersOfTheOldKeepIt_UntilTheyRelease()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var unloaded = new List<(string, CacheUnloadReason)>();
        using var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (key, asset, reason) => unloaded.Add((key, reason)) });
        var loader = new Loader(1024);
        CacheRef<Asset> old = cache.GetOrLoad("shader", loader.Load);

        CacheRef<Asset> fresh = cache.GetOrLoad("shader", loader.Load, mode: CacheMode.Replace);

        Assert.Equal(2, loader.Calls);
        Assert.NotSame(old.Value, fresh.Value);
        using (CacheRef<Asset> later = cache.GetOrLoad("shader", loader.Load))
        {
            Assert.Same(fresh.Value, later.Value);
        }

        Assert.Equal(2048, MemoryBytes(manager));
        Assert.Empty(unloaded);
        old.Dispose();
        Assert.Equal([("shader", CacheUnloadReason.Replaced)], unloaded);
        Assert.Equal(1024, MemoryBytes(manager));
        Assert.Equal(1, cache.GetStats().Reloads);

        // Replacing an unreferenced version unloads it at once.
        fresh.Dispose();
        cache.GetOrLoad("shader", loader.Load, mode: CacheMode.Replace).Dispose();
        Assert.Equal(2, unloaded.Count(u => u.Item2 == CacheUnloadReason.Replaced));
        Assert.Equal(1024, MemoryBytes(manager));
    }

    [Fact]
    public void Ignore_LoadsAPrivateCopy_NeverCached_UnloadedWhenReleased()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var reasons = new List<CacheUnloadReason>();
        using var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (_, _, reason) => reasons.Add(reason) });
        var loader = new Loader(300);
        using CacheRef<Asset> shared = cache.GetOrLoad("mesh", loader.Load);

        CacheRef<Asset> mine = cache.GetOrLoad("mesh", loader.Load, mode: CacheMode.Ignore);

        Assert.NotSame(shared.Value, mine.Value);
        using (CacheRef<Asset> hit = cache.GetOrLoad("mesh", loader.Load))
        {
            Assert.Same(shared.Value, hit.Value);
        }

        Assert.Equal(600, MemoryBytes(manager));
        mine.Dispose();
        Assert.Equal([CacheUnloadReason.Released], reasons);
        Assert.Equal(300, MemoryBytes(manager));
        Assert.True(cache.Contains("mesh"));
    }

    [Fact]
    public void Hooks_RunOncePerEntry_AndAThrowingHookIsReported_WithTheAccountingExact()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        int loaded = 0;
        int unloaded = 0;
        using var cache = new ResourceCache<Asset>(manager, new()
        {
            OnLoaded = (_, _) =>
            {
                loaded++;
                throw new InvalidOperationException("loaded hook");
            },
            OnUnloaded = (_, _, _) =>
            {
                unloaded++;
                throw new InvalidOperationException("unloaded hook");
            },
        });
        var faults = new List<CacheCallbackFaultEventArgs>();
        cache.CallbackFaulted += (_, e) => faults.Add(e);

        CacheRef<Asset> reference = cache.GetOrLoad("a", new Loader(100).Load);
        Assert.True(reference.IsAlive); // the load went on
        reference.Dispose();
        cache.UnloadUnused();

        Assert.Equal((1, 1), (loaded, unloaded));
        Assert.Equal([CacheCallbackKind.Loaded, CacheCallbackKind.Unloaded], faults.Select(f => f.Kind));
        Assert.All(faults, f => Assert.Equal("a", f.Key));
        Assert.Equal(2, cache.CallbackFaults);
        Assert.Equal(0, MemoryBytes(manager));
    }

    [Fact]
    public void AValueWhoseDisposeThrows_IsReported_AndItsMemoryIsReleasedAnyway()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<ThrowingValue>(manager);
        var faults = new List<CacheCallbackKind>();
        cache.CallbackFaulted += (_, e) => faults.Add(e.Kind);
        cache.GetOrLoad("a", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 128));
            return new ThrowingValue();
        }).Dispose();

        cache.UnloadUnused();

        Assert.Equal([CacheCallbackKind.DisposeValue], faults);
        Assert.Equal(0, MemoryBytes(manager));
    }

    public sealed class ThrowingValue : IDisposable
    {
        public void Dispose() => throw new InvalidOperationException("dispose");
    }

    [Fact]
    public void ALoaderThatThrows_FailsTheLoad_WithItsException_AndLeavesNothingCharged()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        int loadedHooks = 0;
        var boom = new IOException("file not found");

        var failure = Assert.Throws<CacheLoadException>(() => cache.GetOrLoad("missing.pvr", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 4096));
            context.Acquire(new ResourceMetadata(ResourceType.Hardware, 1024));
            throw boom;
        }));

        Assert.Same(boom, failure.InnerException);
        Assert.Equal("missing.pvr", failure.Key);
        Assert.Contains("missing.pvr", failure.Message);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(0, manager.GetStats(ResourceType.Hardware).CurrentBytes);
        CacheStats stats = cache.GetStats();
        Assert.Equal((0, 1L, 0L, 0L), (stats.Entries, stats.LoadFailures, stats.Loads, stats.ResidentBytes));
        Assert.Equal(0, loadedHooks);

        // The key can be loaded again.
        using CacheRef<Asset> retry = cache.GetOrLoad("missing.pvr", new Loader(64).Load);
        Assert.True(retry.IsAlive);
    }

    [Fact]
    public void ALoaderThatReturnsNull_FailsTheLoad()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);

        var failure = Assert.Throws<CacheLoadException>(() => cache.GetOrLoad("a", context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
            return null!;
        }));

        Assert.Contains("returned null", failure.Message);
        Assert.Equal(0, MemoryBytes(manager));
    }

    [Fact]
    public void ALoaderThatAcquiresPastTheBudget_FailsWithBudgetExceeded_AfterTheCacheEvictedWhatItCould()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        cache.GetOrLoad("small", new Loader(8 * 1024).Load).Dispose();
        using CacheRef<Asset> held = cache.GetOrLoad("held", new Loader(8 * 1024).Load);

        var failure = Assert.Throws<CacheLoadException>(() => cache.GetOrLoad("huge", new Loader(Ordinary).Load));

        Assert.Equal(ResourceStatus.BudgetExceeded, Assert.IsType<ResourceException>(failure.InnerException).Status);
        Assert.False(cache.Contains("small")); // the manager asked; the cache evicted what was unreferenced
        Assert.Equal(8 * 1024, MemoryBytes(manager));
        Assert.Equal(8 * 1024, cache.GetStats().ResidentBytes);
    }

    [Fact]
    public void ALoadContext_IsUnusableAfterItsLoad_EvenWhileItsBookkeepingServesAnotherLoad()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        CacheLoadContext kept = default;
        cache.GetOrLoad("a", context =>
        {
            kept = context;
            return new Asset(context.Key);
        }).Dispose();

        Assert.False(kept.IsActive);
        Assert.Throws<InvalidOperationException>(() => kept.Acquire(new ResourceMetadata(ResourceType.Memory, 64)));
        Assert.Throws<InvalidOperationException>(() => kept.Key);

        // The next load reuses the pooled bookkeeping: the kept copy must not come back to life and act on it.
        Exception? misuse = null;
        using CacheRef<Asset> b = cache.GetOrLoad("b", context =>
        {
            misuse = Record.Exception(() => kept.Acquire(new ResourceMetadata(ResourceType.Memory, 4096)));
            return new Asset(context.Key);
        });
        Assert.IsType<InvalidOperationException>(misuse);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Throws<InvalidOperationException>(() => default(CacheLoadContext).Key);
    }

    [Fact]
    public void ALoaderThatLoadsItsOwnKey_FailsWithACycle_AndLeavesNothingCharged()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        CacheLoader<Asset>? loader = null;
        loader = context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 512));
            context.Load(cache, context.Key, loader!);
            return new Asset(context.Key);
        };

        var failure = Assert.Throws<CacheLoadException>(() => cache.GetOrLoad("loop", loader));

        Assert.Contains("cycle", failure.Message);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(0, cache.GetStats().Entries);
    }

    [Fact]
    public void Dependencies_AreHeldByTheEntry_AndReleasedWhenItUnloads()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var textures = new ResourceCache<Asset>(manager, new() { Name = "textures" });
        using var materials = new ResourceCache<Asset>(manager, new() { Name = "materials" });
        var texture = new Loader(2048);
        CacheLoader<Asset> material = context =>
        {
            context.Load(textures, "hero_diffuse", texture.Load);
            context.Load(textures, "hero_normal", texture.Load);
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 128));
            return new Asset(context.Key);
        };

        materials.GetOrLoad("hero", material).Dispose();

        Assert.Equal(2, textures.GetStats().Referenced); // held by the material, resident though nobody else holds them
        Assert.Equal(0, textures.UnloadUnused());
        Assert.Equal(128, materials.UnloadUnused());
        Assert.Equal(2, textures.GetStats().Unreferenced);
        Assert.Equal(4096, textures.UnloadUnused());
        Assert.Equal(0, MemoryBytes(manager));
    }

    [Fact]
    public async Task TwoThreadsLoadingEachOthersKeys_FailWithACycle_InsteadOfHanging()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        using var bothLoading = new Barrier(2);
        CacheLoader<Asset> Needs(string other) => context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 256));
            bothLoading.SignalAndWait(Eventually.Patience);
            context.Load(cache, other, Needs(context.Key));
            return new Asset(context.Key);
        };

        Task<Exception?> x = Task.Factory.StartNew<Exception?>(() => Record.Exception(() => cache.GetOrLoad("x", Needs("y")).Dispose()), TaskCreationOptions.LongRunning);
        Task<Exception?> y = Task.Factory.StartNew<Exception?>(() => Record.Exception(() => cache.GetOrLoad("y", Needs("x")).Dispose()), TaskCreationOptions.LongRunning);

        Exception?[] failures = await Task.WhenAll(x, y).WaitAsync(Eventually.Patience); // a hang fails here
        Assert.All(failures, e => Assert.IsType<CacheLoadException>(e));
        Assert.Contains(failures, e => e!.ToString().Contains("cycle"));
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(0, cache.GetStats().Entries);
    }

    [Fact]
    public async Task ConcurrentRequestsForOneKey_ShareOneLoad()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        using var loading = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        int calls = 0;
        CacheLoader<Asset> slow = context =>
        {
            Interlocked.Increment(ref calls);
            loading.Set();
            finish.Wait(Eventually.Patience);
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024));
            return new Asset(context.Key);
        };

        Task<CacheRef<Asset>> first = Task.Factory.StartNew(() => cache.GetOrLoad("a", slow), TaskCreationOptions.LongRunning);
        Assert.True(loading.Wait(Eventually.Patience));
        Task<CacheRef<Asset>>[] others = Enumerable.Range(0, 3)
            .Select(_ => Task.Factory.StartNew(() => cache.GetOrLoad("a", slow), TaskCreationOptions.LongRunning)).ToArray();
        Eventually.Holds(() => cache.GetStats().Loading == 1 && others.All(t => !t.IsCompleted), "the waiters");
        finish.Set();

        CacheRef<Asset>[] references = [await first.WaitAsync(Eventually.Patience), .. await Task.WhenAll(others).WaitAsync(Eventually.Patience)];
        Assert.Equal(1, calls);
        Assert.All(references, r => Assert.Same(references[0].Value, r.Value));
        Assert.Equal(1, cache.GetStats().Referenced);
        var entries = new CacheEntryInfo[2];
        Assert.Equal(1, cache.CopyEntries(entries));
        Assert.Equal(4, entries[0].RefCount);
        Assert.Equal(1024, MemoryBytes(manager));
        foreach (CacheRef<Asset> reference in references)
        {
            Assert.Equal(ResourceStatus.Ok, reference.Release());
        }

        Assert.Equal(1, cache.GetStats().Unreferenced);
    }

    [Fact]
    public async Task EveryWaiterOfAFailingLoad_GetsItsException()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        using var loading = new ManualResetEventSlim();
        using var fail = new ManualResetEventSlim();
        var boom = new FormatException("corrupt header");
        CacheLoader<Asset> failing = context =>
        {
            context.Acquire(new ResourceMetadata(ResourceType.Memory, 1024));
            loading.Set();
            fail.Wait(Eventually.Patience);
            throw boom;
        };

        Task<Exception?> first = Task.Factory.StartNew<Exception?>(() => Record.Exception(() => cache.GetOrLoad("a", failing)), TaskCreationOptions.LongRunning);
        Assert.True(loading.Wait(Eventually.Patience));
        Task<Exception?> waiter = Task.Factory.StartNew<Exception?>(() => Record.Exception(() => cache.GetOrLoad("a", failing)), TaskCreationOptions.LongRunning);
        Eventually.Holds(() => !waiter.IsCompleted && cache.GetStats().Loading == 1, "the waiter");
        Thread.Sleep(50); // let the waiter reach its wait (if it has not, it loads itself and fails the same way)
        fail.Set();

        Assert.Same(boom, Assert.IsType<CacheLoadException>(await first.WaitAsync(Eventually.Patience)).InnerException);
        Assert.Same(boom, Assert.IsType<CacheLoadException>(await waiter.WaitAsync(Eventually.Patience)).InnerException);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.Equal(0, cache.GetStats().Entries);
    }

    [Fact]
    public void Dispose_UnloadsEverything_ReferencesTurnStale_AndLaterCallsThrow()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var reasons = new List<CacheUnloadReason>();
        var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (_, _, reason) => reasons.Add(reason) });
        var loader = new Loader(1000);
        CacheRef<Asset> held = cache.GetOrLoad("held", loader.Load);
        cache.GetOrLoad("cached", loader.Load).Dispose();
        CacheWeakRef<Asset> weak = held.ToWeak();

        cache.Dispose();
        cache.Dispose();

        Assert.Equal([CacheUnloadReason.CacheDisposed, CacheUnloadReason.CacheDisposed], reasons);
        Assert.Equal(0, MemoryBytes(manager));
        Assert.False(held.IsAlive);
        Assert.Equal(ResourceStatus.StaleHandle, held.Release());
        Assert.False(weak.TryUpgrade(out _));
        Assert.Throws<ObjectDisposedException>(() => cache.GetOrLoad("x", loader.Load));
        Assert.Throws<ObjectDisposedException>(() => cache.TryGet("held", out _));
        Assert.Throws<ObjectDisposedException>(() => cache.UnloadUnused());

        // It no longer answers the manager's reclamation requests.
        ResourceHandle all = manager.Acquire(new ResourceMetadata(ResourceType.Memory, Ordinary));
        manager.Release(all);
    }

    [Fact]
    public async Task DisposeDuringALoad_TheLoadFinishes_IsUnloaded_AndItsCallerIsTold()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var reasons = new List<CacheUnloadReason>();
        var cache = new ResourceCache<Asset>(manager, new() { OnUnloaded = (_, _, reason) => reasons.Add(reason) });
        using var loading = new ManualResetEventSlim();
        using var finish = new ManualResetEventSlim();
        Task<Exception?> load = Task.Factory.StartNew<Exception?>(
            () => Record.Exception(() => cache.GetOrLoad("a", context =>
            {
                context.Acquire(new ResourceMetadata(ResourceType.Memory, 2048));
                loading.Set();
                finish.Wait(Eventually.Patience);
                return new Asset(context.Key);
            })),
            TaskCreationOptions.LongRunning);
        Assert.True(loading.Wait(Eventually.Patience));

        cache.Dispose();
        finish.Set();

        Assert.IsType<ObjectDisposedException>(await load.WaitAsync(Eventually.Patience));
        Assert.Equal([CacheUnloadReason.CacheDisposed], reasons);
        Assert.Equal(0, MemoryBytes(manager));
    }

    [Fact]
    public void AManagerDisposedFirst_LeavesTheCacheDisposable()
    {
        var manager = new ResourceManager(TestProfiles.Small());
        var cache = new ResourceCache<Asset>(manager);
        CacheRef<Asset> held = cache.GetOrLoad("a", new Loader(64).Load);
        manager.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.GetOrLoad("b", new Loader(64).Load)); // not a load failure
        Assert.Throws<ObjectDisposedException>(() => cache.TryGet("a", out _));      // its memory went with the manager
        Assert.Throws<ObjectDisposedException>(() => { _ = cache.LoadAsync("b", (c, _) => ValueTask.FromResult(new Asset("b"))).AsTask(); });
        Assert.Equal(ResourceStatus.Ok, held.Release());                            // the count still drops, nothing freed twice

        cache.Dispose();

        Assert.False(held.IsAlive);
    }

    [Fact]
    public void BadInput_IsRefusedClearly_AndChangesNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var other = new ResourceManager(TestProfiles.Small());
        var loader = new Loader(64);
        Assert.Throws<ArgumentNullException>(() => new ResourceCache<Asset>(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceCache<Asset>(manager, new() { MaxBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResourceCache<Asset>(manager, new() { MaxReferences = -1 }));
        Assert.Throws<ArgumentException>(() => new ResourceCache<Asset>(manager, new() { Name = "" }));
        Assert.Throws<ArgumentException>(() => new ResourceCache<Asset>(manager, new() { Owner = other.GetOwner("theirs") }));

        using var cache = new ResourceCache<Asset>(manager);
        Assert.Throws<ArgumentNullException>(() => cache.GetOrLoad((string)null!, loader.Load));
        Assert.Throws<ArgumentException>(() => cache.GetOrLoad("", loader.Load));
        Assert.Throws<ArgumentException>(() => cache.GetOrLoad(ReadOnlySpan<char>.Empty, loader.Load));
        Assert.Throws<ArgumentNullException>(() => cache.GetOrLoad("a", null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.GetOrLoad("a", loader.Load, (ResourcePriority)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.GetOrLoad("a", loader.Load, mode: (CacheMode)9));
        Assert.Throws<ArgumentNullException>(() => cache.TryGet((string)null!, out _));
        Assert.Throws<ArgumentNullException>(() => cache.Unload(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.GetResidentBytes((ResourceType)42));
        Assert.Throws<ResourceException>(() => default(CacheRef<Asset>).Value);
        Assert.Throws<ResourceException>(() => default(CacheRef<Asset>).AddRef());
        Assert.Equal(0, loader.Calls);
        Assert.Equal(default, cache.GetStats() with { });
        Assert.Equal(0, MemoryBytes(manager));
    }

    [Fact]
    public void AtMaxReferences_ARequestIsRefused_WithCapacityExceeded_AndNothingIsLoaded()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager, new() { MaxReferences = 2 });
        var loader = new Loader(64);
        using CacheRef<Asset> a = cache.GetOrLoad("a", loader.Load);
        using CacheRef<Asset> b = cache.GetOrLoad("a", loader.Load);

        Assert.Equal(ResourceStatus.CapacityExceeded, Assert.Throws<ResourceException>(() => cache.GetOrLoad("b", loader.Load)).Status);
        Assert.Equal(ResourceStatus.CapacityExceeded, cache.TryGet("a", out _));
        Assert.Equal(1, loader.Calls);
        Assert.Equal(64, MemoryBytes(manager));
    }

    [Fact]
    public void CopyEntries_DescribesEachEntry_WithoutAllocating()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        var loader = new Loader(100);
        using CacheRef<Asset> held = cache.GetOrLoad("held", loader.Load, ResourcePriority.High);
        cache.GetOrLoad("idle", loader.Load).Dispose();
        var entries = new CacheEntryInfo[4];

        long allocated = Allocations.Measure(() => cache.CopyEntries(entries));
        int count = cache.CopyEntries(entries);

        Assert.Equal(0, allocated);
        Assert.Equal(2, count);
        CacheEntryInfo h = entries.Take(count).Single(e => e.Key == "held");
        CacheEntryInfo i = entries.Take(count).Single(e => e.Key == "idle");
        Assert.Equal((CacheEntryState.Referenced, 1, 100L, ResourcePriority.High, true), (h.State, h.RefCount, h.Bytes, h.Priority, h.IsCached));
        Assert.Equal((CacheEntryState.Unreferenced, 0), (i.State, i.RefCount));
        Assert.True(i.LastAccess > h.LastAccess);
        Assert.Equal(2, cache.CopyEntries(Span<CacheEntryInfo>.Empty));
    }

    [Fact]
    public void AHit_ByStringOrBySpan_AndItsRelease_AllocateNothing()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Asset>(manager);
        var loader = new Loader(64);
        CacheLoader<Asset> load = loader.Load; // one delegate (the property makes a new one each time)
        cache.GetOrLoad("textures/hero.pvr", load).Dispose();
        char[] buffer = "textures/hero.pvr".ToCharArray();

        long byString = Allocations.Measure(() => cache.GetOrLoad("textures/hero.pvr", load).Dispose());
        long bySpan = Allocations.Measure(() => cache.GetOrLoad(buffer.AsSpan(), load).Dispose());
        long tryGet = Allocations.Measure(() =>
        {
            cache.TryGet(buffer.AsSpan(), out CacheRef<Asset> r);
            r.Dispose();
        });

        Assert.Equal((0L, 0L, 0L), (byString, bySpan, tryGet));
        Assert.Equal(1, loader.Calls);
    }

    [Fact]
    public void ASteadyCycleOfLoadReleaseAndEviction_AllocatesNothing_BeyondTheLoader()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        using var cache = new ResourceCache<Handle16>(manager, new() { MaxBytes = 4 * 512 });
        string[] keys = Enumerable.Range(0, 16).Select(i => $"chunk/{i}").ToArray();
        CacheLoader<Handle16> loader = static context => new Handle16(context.Acquire(new ResourceMetadata(ResourceType.Memory, 512)));
        int next = 0;

        long allocated = Allocations.Measure(() => cache.GetOrLoad(keys[next++ % keys.Length], loader).Dispose(), iterations: 2000);

        Assert.Equal(0, allocated);
        Assert.True(cache.GetStats().EvictedOverCapacity > 1000);
        Assert.Equal(4 * 512, MemoryBytes(manager));
    }

    /// <summary>A struct value: what a descriptor-style cache holds.</summary>
    public readonly record struct Handle16(ResourceHandle Handle);
}
