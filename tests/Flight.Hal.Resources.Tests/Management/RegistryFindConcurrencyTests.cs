namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Finding by name takes no registry lock while no name is being changed: a find racing with acquisitions and
/// releases under the same names answers NotFound, or a handle that carries exactly that name (checked under the lock,
/// when still live) — never another name's resource, never an exception.</summary>
public class RegistryFindConcurrencyTests
{
    [Fact]
    public void FindRacingWithNamedAcquireAndRelease_FindsOnlyThatName()
    {
        // Arrange
        // No idle name is retained, so a name is forgotten at its last release and its table slot reused by another name.
        using var manager = new ResourceManager(PlatformProfile.Get("desktop"), new ResourceManagerOptions { MaxRetainedNames = 0 });
        string[] names = Enumerable.Range(0, 64).Select(i => $"level/asset{i:D3}").ToArray();
        using var stop = new CancellationTokenSource();
        long found = 0;
        long checkedLive = 0;
        Exception? failure = null;

        void Finder(int seed)
        {
            var random = new Random(seed);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    string name = names[random.Next(names.Length)];
                    ResourceStatus status = manager.TryFind(name, out ResourceHandle handle);
                    if (status == ResourceStatus.NotFound)
                    {
                        continue;
                    }

                    if (status != ResourceStatus.Ok || handle.IsNull)
                    {
                        throw new InvalidOperationException($"{name}: {status} {handle}");
                    }

                    Interlocked.Increment(ref found);
                    if (manager.TryGetInfo(handle, out ResourceInfo info) == ResourceStatus.Ok)
                    {
                        Interlocked.Increment(ref checkedLive);
                        if (info.Name != name)
                        {
                            throw new InvalidOperationException($"found {handle} for '{name}', but it carries '{info.Name}'");
                        }
                    }
                }
            }
            catch (Exception exception)
            {
                failure ??= exception;
                stop.Cancel();
            }
        }

        var finders = new[] { new Thread(() => Finder(1)), new Thread(() => Finder(2)) };
        foreach (Thread t in finders)
        {
            t.Start();
        }

        // Act: names come and go (some twice at once), and idle names are forgotten and their slots reused.
        var random = new Random(3);
        var live = new List<ResourceHandle>();
        var md = new ResourceMetadata(ResourceType.Memory, 64);
        for (int i = 0; i < 200_000 && !stop.IsCancellationRequested; i++)
        {
            if (live.Count < 8 && random.Next(2) == 0)
            {
                Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in md, out ResourceHandle handle, names[random.Next(names.Length)]));
                live.Add(handle);
            }
            else if (live.Count > 0)
            {
                int k = random.Next(live.Count);
                Assert.Equal(ResourceStatus.Ok, manager.Release(live[k]));
                live[k] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
        }

        stop.Cancel();
        foreach (Thread t in finders)
        {
            t.Join();
        }

        // Assert
        Assert.Null(failure);
        Assert.True(found > 0 && checkedLive > 0, $"found {found}, checked live {checkedLive}");
        foreach (ResourceHandle handle in live)
        {
            Assert.Equal(ResourceStatus.Ok, manager.Release(handle));
        }

        foreach (string name in names)
        {
            Assert.Equal(ResourceStatus.NotFound, manager.TryFind(name, out _));
        }
    }
}
