using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Caching;

/// <summary>Random operations on a <see cref="ResourceCache{T}"/> — load in every mode, release (also of copies released
/// already), add-ref, weak upgrade, unload (forced or not), unload-unused — checked after every step against a plain
/// model: which entries are resident, every reference's liveness, the cache's figures and the manager's bytes.</summary>
public class ResourceCacheModelTests
{
    private const int Keys = 6;
    private const long Cap = 3000;

    private sealed class ModelEntry
    {
        public required string Key;
        public required long Bytes;
        public required ResourcePriority Priority;
        public int Refs;
        public long Access;
        public bool Cached;     // in the key map
        public bool Alive = true;
    }

    private static long SizeOf(int key) => 256L * (key + 1);

    private static ResourcePriority PriorityOf(int key) => (ResourcePriority)(key % 3);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void RandomOperations_MatchThePlainModel_StepByStep(int seed)
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var unloadedKeys = new List<(string Key, CacheUnloadReason Reason)>();
        int loadedHooks = 0;
        using var cache = new ResourceCache<string>(manager, new()
        {
            MaxBytes = Cap,
            OnLoaded = (_, _) => loadedHooks++,
            OnUnloaded = (key, _, reason) => unloadedKeys.Add((key, reason)),
        });
        var random = new Random(seed);
        var model = new List<ModelEntry>();
        var refs = new List<(CacheRef<string> Ref, ModelEntry Entry, bool Released)>();
        var weaks = new List<(CacheWeakRef<string> Weak, ModelEntry Entry)>();
        long tick = 0;
        int loads = 0;

        CacheLoader<string> LoaderFor(int key) => context =>
        {
            context.Acquire(new ResourceMetadata(key % 2 == 0 ? ResourceType.Memory : ResourceType.Custom, SizeOf(key)));
            return $"{context.Key}#{++loads}";
        };

        void Unload(ModelEntry entry)
        {
            entry.Alive = false;
            entry.Cached = false;
            entry.Refs = 0;
        }

        void EnforceCap()
        {
            while (model.Where(e => e.Alive).Sum(e => e.Bytes) > Cap)
            {
                ModelEntry? victim = model.Where(e => e.Alive && e.Cached && e.Refs == 0)
                    .OrderBy(e => e.Priority).ThenBy(e => e.Access).FirstOrDefault();
                if (victim == null)
                {
                    break;
                }

                Unload(victim);
            }
        }

        for (int step = 0; step < 1500; step++)
        {
            int op = random.Next(100);
            int outstanding = refs.Count(r => !r.Released && r.Entry.Alive);
            if (op < 40 && outstanding >= 6)
            {
                op = 40 + random.Next(30); // keep a handful of references outstanding, so entries become evictable
            }

            int key = random.Next(Keys);
            string name = $"k{key}";
            string what;
            if (op < 40)
            {
                CacheMode mode = op < 30 ? CacheMode.Reuse : op < 35 ? CacheMode.Replace : CacheMode.Ignore;
                what = $"GetOrLoad({name}, {mode})";
                CacheRef<string> reference = cache.GetOrLoad(name, LoaderFor(key), PriorityOf(key), mode);
                ModelEntry? cached = model.FirstOrDefault(e => e.Alive && e.Cached && e.Key == name);
                ModelEntry entry;
                if (mode == CacheMode.Reuse && cached != null)
                {
                    entry = cached;
                }
                else
                {
                    entry = new ModelEntry { Key = name, Bytes = SizeOf(key), Priority = PriorityOf(key), Cached = mode != CacheMode.Ignore };
                    model.Add(entry);
                    if (mode == CacheMode.Replace && cached != null)
                    {
                        cached.Cached = false;
                        if (cached.Refs == 0)
                        {
                            Unload(cached);
                        }
                    }
                }

                entry.Refs++;
                entry.Access = ++tick;
                EnforceCap();
                refs.Add((reference, entry, false));
                Assert.StartsWith(name + "#", reference.Value);
            }
            else if (op < 70 && refs.Count > 0)
            {
                // Mostly an outstanding reference; sometimes a copy released already (or made stale by force).
                List<int> candidates = Enumerable.Range(0, refs.Count).Where(j => !refs[j].Released && refs[j].Entry.Alive).ToList();
                int i = candidates.Count > 0 && random.Next(6) > 0 ? candidates[random.Next(candidates.Count)] : random.Next(refs.Count);
                (CacheRef<string> reference, ModelEntry entry, bool released) = refs[i];
                what = $"Release({entry.Key}, released before: {released})";
                bool expectOk = !released && entry.Alive;
                Assert.Equal(expectOk ? ResourceStatus.Ok : ResourceStatus.StaleHandle, reference.Release());
                refs[i] = (reference, entry, true);
                if (expectOk)
                {
                    entry.Access = ++tick;
                    if (--entry.Refs == 0)
                    {
                        if (entry.Cached)
                        {
                            EnforceCap();
                        }
                        else
                        {
                            Unload(entry);
                        }
                    }
                }
            }
            else if (op < 75 && refs.Count > 0)
            {
                (CacheRef<string> reference, ModelEntry entry, bool released) = refs[random.Next(refs.Count)];
                what = $"AddRef({entry.Key})";
                if (!released && entry.Alive)
                {
                    refs.Add((reference.AddRef(), entry, false));
                    entry.Refs++;
                    entry.Access = ++tick;
                }
                else
                {
                    Assert.Throws<ResourceException>(() => reference.AddRef());
                }
            }
            else if (op < 82 && refs.Count > 0)
            {
                (CacheRef<string> reference, ModelEntry entry, _) = refs[random.Next(refs.Count)];
                what = $"ToWeak({entry.Key})";
                weaks.Add((reference.ToWeak(), entry));
            }
            else if (op < 90 && weaks.Count > 0)
            {
                (CacheWeakRef<string> weak, ModelEntry entry) = weaks[random.Next(weaks.Count)];
                what = $"TryUpgrade({entry.Key})";
                Assert.Equal(entry.Alive, weak.TryUpgrade(out CacheRef<string> upgraded));
                if (entry.Alive)
                {
                    refs.Add((upgraded, entry, false));
                    entry.Refs++;
                    entry.Access = ++tick;
                }
            }
            else if (op < 96)
            {
                bool force = random.Next(2) == 0;
                what = $"Unload({name}, force: {force})";
                ModelEntry? cached = model.FirstOrDefault(e => e.Alive && e.Cached && e.Key == name);
                ResourceStatus expected = cached == null ? ResourceStatus.NotFound
                    : cached.Refs > 0 && !force ? ResourceStatus.SharingFailure
                    : ResourceStatus.Ok;
                Assert.Equal(expected, cache.Unload(name, force));
                if (expected == ResourceStatus.Ok)
                {
                    Unload(cached!);
                }
            }
            else
            {
                what = "UnloadUnused()";
                long expected = 0;
                foreach (ModelEntry entry in model.Where(e => e.Alive && e.Cached && e.Refs == 0))
                {
                    expected += entry.Bytes;
                    Unload(entry);
                }

                Assert.Equal(expected, cache.UnloadUnused());
            }

            // Check everything after every step.
            model.RemoveAll(e => !e.Alive && !refs.Any(r => r.Entry == e) && !weaks.Any(w => w.Entry == e));
            List<ModelEntry> alive = model.Where(e => e.Alive).ToList();
            CacheStats stats = cache.GetStats();
            long residentBytes = alive.Sum(e => e.Bytes);
            string state = $"seed {seed}, step {step}: {what}";
            Assert.True(alive.Count == stats.Entries, $"{state}: entries {stats.Entries}, model {alive.Count}");
            Assert.True(alive.Count(e => e.Refs > 0) == stats.Referenced, $"{state}: referenced {stats.Referenced}");
            Assert.True(alive.Count(e => e.Refs == 0) == stats.Unreferenced, $"{state}: unreferenced {stats.Unreferenced}");
            Assert.True(residentBytes == stats.ResidentBytes, $"{state}: resident {stats.ResidentBytes}, model {residentBytes}");
            long managerBytes = manager.GetStats(ResourceType.Memory).CurrentBytes + manager.GetStats(ResourceType.Custom).CurrentBytes;
            Assert.True(residentBytes == managerBytes, $"{state}: manager holds {managerBytes}, model {residentBytes}");
            for (int k = 0; k < Keys; k++)
            {
                bool cachedNow = alive.Any(e => e.Cached && e.Key == $"k{k}");
                Assert.True(cachedNow == cache.Contains($"k{k}"), $"{state}: k{k} cached {!cachedNow} but the model says {cachedNow}");
            }

            foreach ((CacheRef<string> reference, ModelEntry entry, bool released) in refs)
            {
                Assert.True(entry.Alive == reference.IsAlive, $"{state}: a reference to {entry.Key} alive {reference.IsAlive}, model {entry.Alive}");
            }

            refs.RemoveAll(r => r.Released && random.Next(4) == 0); // keep some released copies around
        }

        // The walk reached the interesting cases.
        CacheStats end = cache.GetStats();
        Assert.True(end.EvictedOverCapacity > 50 && end.ForcedUnloads > 5 && end.Reloads > 5, $"seed {seed}: {end}");

        // Every entry's hooks ran exactly once: loads == unloads once all is unloaded.
        foreach ((CacheRef<string> reference, _, _) in refs)
        {
            reference.Dispose();
        }

        cache.UnloadUnused();
        Assert.Equal(0, cache.GetStats().Entries);
        Assert.Equal(loadedHooks, unloadedKeys.Count);
        Assert.Equal(cache.GetStats().Loads, unloadedKeys.Count);
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes + manager.GetStats(ResourceType.Custom).CurrentBytes);
    }
}
