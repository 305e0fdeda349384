using System.Collections.Concurrent;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Registry handles resolve without the registry lock: a resolution racing with releases and re-acquisitions
/// that reuse the same registry slots answers either Ok with exactly the address and size that handle was issued with,
/// or Stale — never another resource's memory.</summary>
public class RegistryResolveConcurrencyTests
{
    [Theory]
    [InlineData("desktop")]
    [InlineData("dreamcast")]
    public void ResolveRacingWithReleaseAndReuse_IsExactOrStale(string profile)
    {
        // Arrange
        using var manager = new ResourceManager(PlatformProfile.Get(profile));
        const int Slots = 8;
        var published = new long[Slots];                        // raw handles the resolvers may try
        var issued = new ConcurrentDictionary<ulong, (nint Address, long Size)>();
        int[] sizes = [48, 64, 200, 1024, 3000, 4096, 6000, 16384]; // pools and the region, reusing slots with new sizes
        using var stop = new CancellationTokenSource();
        long ok = 0;
        long stale = 0;
        Exception? failure = null;

        void Resolver(int seed)
        {
            var random = new Random(seed);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var handle = ResourceHandle.FromRawValue((ulong)Volatile.Read(ref published[random.Next(Slots)]));
                    if (handle.IsNull)
                    {
                        continue;
                    }

                    ResourceStatus status = manager.TryResolve(handle, out nint address, out long size);
                    if (status == ResourceStatus.Ok)
                    {
                        (nint Address, long Size) expected = issued[handle.RawValue];
                        if (expected.Address != address || expected.Size != size)
                        {
                            throw new InvalidOperationException(
                                $"{handle}: resolved to {address:x}/{size}, issued as {expected.Address:x}/{expected.Size}");
                        }

                        Interlocked.Increment(ref ok);
                    }
                    else if (status == ResourceStatus.StaleHandle)
                    {
                        Interlocked.Increment(ref stale);
                    }
                    else
                    {
                        throw new InvalidOperationException($"{handle}: {status}");
                    }
                }
            }
            catch (Exception exception)
            {
                failure ??= exception;
                stop.Cancel();
            }
        }

        var resolvers = new[] { new Thread(() => Resolver(1)), new Thread(() => Resolver(2)) };
        foreach (Thread t in resolvers)
        {
            t.Start();
        }

        // Act: this thread keeps replacing the published resources, named (so they live in the registry).
        var random = new Random(3);
        for (int i = 0; i < 40_000 && !stop.IsCancellationRequested; i++)
        {
            int slot = random.Next(Slots);
            var md = new ResourceMetadata(ResourceType.Memory, sizes[random.Next(sizes.Length)]);
            Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in md, out ResourceHandle handle, $"asset/{slot}"));
            Assert.Equal(ResourceStatus.Ok, manager.TryResolve(handle, out nint address, out long size));
            issued[handle.RawValue] = (address, size); // recorded before the handle is published
            var old = ResourceHandle.FromRawValue((ulong)Interlocked.Exchange(ref published[slot], (long)handle.RawValue));
            if (!old.IsNull)
            {
                Assert.Equal(ResourceStatus.Ok, manager.Release(old));
            }
        }

        stop.Cancel();
        foreach (Thread t in resolvers)
        {
            t.Join();
        }

        // Assert
        Assert.Null(failure);
        Assert.True(ok > 0, "some resolutions found their resource live");
        foreach (long raw in published)
        {
            Assert.Equal(ResourceStatus.Ok, manager.Release(ResourceHandle.FromRawValue((ulong)raw)));
        }

        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
    }
}
