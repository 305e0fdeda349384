using Flight.Hal.Resources;

/// <summary>A frame loop to watch: each frame takes scratch buffers and releases them, streams a mesh in (evicting the
/// oldest when the budget is under pressure) and, now and then, swaps a texture in video RAM.</summary>
internal static class Demo
{
    public static int Run(int seconds)
    {
        using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"));
        using IDisposable tracking = ResourceMetrics.Track(manager, "demo");
        Console.WriteLine($"fhr-counters demo: process {Environment.ProcessId}, {seconds} s on dreamcast");
        var random = new Random(7);
        var meshes = new Queue<ResourceHandle>();
        var textures = new Queue<ResourceHandle>();
        ResourceOwner streaming = manager.GetOwner("streaming");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (long frame = 0; clock.Elapsed.TotalSeconds < seconds; frame++)
        {
            for (int i = 0; i < 8; i++)
            {
                manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64 << random.Next(0, 7))));
            }

            var mesh = new ResourceMetadata(ResourceType.Memory, 256 * 1024);
            ResourceHandle streamed;
            if (meshes.Count >= 24)
            {
                manager.Release(meshes.Dequeue()); // six MiB of meshes streamed in: the oldest goes
            }

            while (manager.TryAcquire(in mesh, out streamed, name: $"mesh{frame % 1000}", owner: streaming) != ResourceStatus.Ok)
            {
                manager.Release(meshes.Dequeue()); // the budget is full: the oldest mesh goes
            }

            meshes.Enqueue(streamed);
            if (frame % 30 == 0)
            {
                if (textures.Count >= 6)
                {
                    manager.Release(textures.Dequeue());
                }

                textures.Enqueue(manager.Acquire(new ResourceMetadata(ResourceType.Hardware, 128 * 1024 << random.Next(0, 2), flags: ResourceFlags.GpuAccessible)));
            }

            Thread.Sleep(16);
        }

        return 0;
    }
}
