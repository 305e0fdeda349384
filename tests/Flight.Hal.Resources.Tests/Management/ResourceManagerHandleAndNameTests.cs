using System.Runtime.InteropServices;
using Flight.Hal.Resources.Native;
using Flight.Hal.Resources.Tests.Native;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Adversarial probes of handles, names and the C ABI's handling of them.</summary>
public class ResourceManagerHandleAndNameTests
{
    private static ResourceHandle Forge(ResourceHandle like, int index, uint generation) =>
        ResourceHandle.FromRawValue(((ulong)generation << 32) | ((ulong)(uint)index << 10) | (like.RawValue & 0x3FF));

    [Fact]
    public void ForgedHandlesThatWereNeverIssued_AreInvalid_NotStale()
    {
        // README: "Handles that are null, forged or from another manager (live or disposed) return InvalidHandle";
        // StaleHandle means "released already". A forged handle with the manager's own tag, but an index never used or a
        // generation never issued (even, or ahead of the slot), is reported as released already.
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceHandle named = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100), name: "n");
        ResourceHandle pooled = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 32));

        var forged = new[]
        {
            Forge(named, 4000, named.Generation),        // a slot the registry never used
            Forge(named, named.Index, named.Generation + 1), // an even generation: never a live one
            Forge(named, named.Index, named.Generation + 1000), // far ahead of the slot
            Forge(pooled, 15, pooled.Generation + 1000),      // a pool block never rented, a generation never issued
        };

        Assert.All(forged, f => Assert.Equal(ResourceStatus.InvalidHandle, manager.Release(f)));
    }

    [Fact]
    public void NamesForgottenAndReused_NeverResolveToAWrongName()
    {
        var random = new Random(7);
        using var manager = new ResourceManager(
            TestProfiles.Small(),
            new ResourceManagerOptions { MaxRetainedNames = 3, MaxRegisteredResources = 4096 });
        manager.SetBudget(ResourceType.Custom, new ResourceBudget(1L << 40));
        ResourceOwner[] owners = [manager.GetOwner("a"), manager.GetOwner("b")];
        var live = new Dictionary<ResourceHandle, string>();
        var shareable = new HashSet<ResourceHandle>();
        for (int step = 0; step < 20000; step++)
        {
            int op = live.Count > 200 ? 8 : random.Next(10);
            if (op < 5 || live.Count == 0)
            {
                string name = "name-" + random.Next(300);
                bool share = random.Next(2) == 0;
                ResourceHandle h = manager.Acquire(new ResourceMetadata(ResourceType.Custom, 16, flags: share ? ResourceFlags.Shareable : 0), name: name, owner: owners[random.Next(2)]);
                live[h] = name;
                if (share) shareable.Add(h);
            }
            else if (op < 6 && shareable.Count > 0)
            {
                ResourceHandle from = shareable.ElementAt(random.Next(shareable.Count));
                ResourceHandle copy = manager.Share(from, owners[random.Next(2)]);
                live[copy] = live[from];
                shareable.Add(copy);
            }
            else if (op < 9)
            {
                ResourceHandle h = live.Keys.ElementAt(random.Next(live.Count));
                Assert.Equal(ResourceStatus.Ok, manager.Release(h));
                live.Remove(h);
                shareable.Remove(h);
            }
            else
            {
                string name = "name-" + random.Next(300);
                ResourceStatus status = manager.TryFind(name, out ResourceHandle found);
                if (live.ContainsValue(name))
                {
                    Assert.Equal(ResourceStatus.Ok, status);
                    Assert.Equal(name, live[found]);
                }
                else
                {
                    Assert.Equal(ResourceStatus.NotFound, status);
                }
            }

            if (step % 500 == 0)
            {
                foreach ((ResourceHandle h, string name) in live)
                {
                    Assert.Equal(name, manager.GetInfo(h).Name);
                }

                Assert.Equal(live.Count, manager.CreateLeakReport().Count);
                Assert.All(manager.CreateLeakReport().Resources, r => Assert.Equal(live[r.Handle], r.Name));
            }
        }
    }

    [Fact]
    public unsafe void CAbi_ReleaseOwnedWithUnknownOwners_CreatesNoOwner()
    {
        // fhr_release_owned (and fhr_share, fhr_acquire_owned) intern the owner name before anything else, so even a
        // release of the null handle creates a permanent owner (and a wait-for-graph row). After 65,535 distinct names
        // every such call fails with FHR_INTERNAL_ERROR ("an unexpected failure inside") instead of its real status.
        nint manager;
        byte* profile = (byte*)Marshal.StringToCoTaskMemUTF8("n64");
        Assert.Equal(0, NativeApiCalls.ManagerCreate(profile, &manager));
        var statuses = new Dictionary<int, int>();
        byte* owner = (byte*)NativeMemory.Alloc(32);
        try
        {
            for (int i = 0; i < ResourceManager.MaxOwners + 10; i++)
            {
                byte[] text = System.Text.Encoding.UTF8.GetBytes($"owner-{i}\0");
                text.CopyTo(new Span<byte>(owner, 32));
                int status = NativeApiCalls.ReleaseOwned(manager, 0, owner); // the null handle
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }
        }
        finally
        {
            NativeMemory.Free(owner);
            Marshal.FreeCoTaskMem((nint)profile);
            Assert.Equal(0, NativeApiCalls.ManagerDestroy(manager));
        }

        Assert.Equal([(int)ResourceStatus.InvalidHandle], statuses.Keys);
    }

    [Fact]
    public async Task ThreadsComingAndGoing_KeepEveryManagersCountsExact()
    {
        var managers = Enumerable.Range(0, 3).Select(_ => new ResourceManager(TestProfiles.Small())).ToArray();
        try
        {
            int before = ThreadIndex.Count;
            for (int wave = 0; wave < 20; wave++)
            {
                Thread[] threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
                {
                    foreach (ResourceManager m in managers)
                    {
                        for (int i = 0; i < 50; i++)
                        {
                            m.Release(m.Acquire(new ResourceMetadata(ResourceType.Memory, 64)));
                            m.Release(m.Acquire(new ResourceMetadata(ResourceType.Memory, 300), name: "x"));
                        }
                    }
                })).ToArray();
                foreach (Thread t in threads) t.Start();
                foreach (Thread t in threads) t.Join();
            }

            foreach (ResourceManager m in managers)
            {
                ResourceStats s = m.GetStats(ResourceType.Memory);
                Assert.Equal(20 * 4 * 100, s.Acquisitions);
                Assert.Equal(20 * 4 * 100, s.Releases);
                Assert.Equal(0, s.CurrentBytes);
                Assert.Equal(0, m.LiveCount);
            }

            Assert.True(ThreadIndex.Count <= before + 16, $"{ThreadIndex.Count - before} indices for 4 threads at a time");
        }
        finally
        {
            foreach (ResourceManager m in managers) m.Dispose();
        }

        await Task.CompletedTask;
    }

    [Fact]
    public void FindOwner_AndGetSpan_AreTheThrowingTwins_OfTryFindOwnerAndTryGetSpan()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceOwner audio = manager.GetOwner("Audio");

        Assert.Equal(audio, manager.FindOwner("Audio"));
        Assert.Equal(ResourceStatus.NotFound, Assert.Throws<ResourceException>(() => manager.FindOwner("Video")).Status);
        Assert.Equal(ResourceStatus.NotFound, manager.TryFindOwner("Video", out _)); // FindOwner created nothing

        ResourceHandle handle = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100));
        Assert.Equal(100, manager.GetSpan(handle).Length);
        manager.Release(handle);
        Assert.Equal(ResourceStatus.StaleHandle, Assert.Throws<ResourceException>(() => manager.GetSpan(handle)).Status);
        Assert.True(manager.Resolve(handle).IsEmpty); // the non-throwing form
    }
}
