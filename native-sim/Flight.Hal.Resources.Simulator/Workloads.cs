namespace Flight.Hal.Resources.Simulator;

/// <summary>The built-in workloads, generated for any number of frames.</summary>
internal static class Workloads
{
    public const int DefaultFrames = 600;

    public static IReadOnlyList<string> Names { get; } = ["game", "stress", "vram"];

    public static bool TryCreate(string name, int frames, int seed, out Workload workload)
    {
        switch (name.ToLowerInvariant())
        {
            case "game":
                workload = Game(frames);
                return true;
            case "stress":
                workload = Stress(frames, seed);
                return true;
            case "vram":
                workload = Vram(frames, seed);
                return true;
            default:
                workload = null!;
                return false;
        }
    }

    /// <summary>Three console levels (as the C host runs them): textures to video RAM, banks to sound RAM, meshes and
    /// state to main RAM, a vertex buffer shared between the graphics and audio drivers, eight transient buffers per
    /// frame; level 2 streams cacheable meshes until the Memory budget is under pressure and spawns a 3 MiB boss mesh
    /// as an Emergency acquisition.</summary>
    public static Workload Game(int frames)
    {
        const long KiB = 1024;
        var events = new List<TraceEvent>();
        int perLevel = Math.Max(4, frames / 3);
        long[] transient = [48, 64, 200, 256, 900, 1024, 3000, 4096];
        for (int level = 0; level < 3; level++)
        {
            int start = level * perLevel;
            if (start >= frames)
            {
                break;
            }

            int end = Math.Min(frames, start + perLevel) - 1;
            var assets = new List<string>();
            void Load(string id, ResourceType type, long size, ResourceFlags flags)
            {
                events.Add(new TraceEvent(start, TraceOp.Acquire, id, type, size, 32, flags));
                assets.Add(id);
            }

            (int textures, long textureSize, int banks, long bankSize, int meshes, long meshSize) = level switch
            {
                0 => (4, 256 * KiB, 1, 128 * KiB, 6, 256 * KiB),
                1 => (6, 256 * KiB, 3, 192 * KiB, 10, 512 * KiB),
                _ => (8, (128 * KiB) + 48, 1, 300 * KiB, 16, 100 * KiB),
            };
            for (int i = 0; i < textures; i++)
            {
                Load($"L{level}.tex{i}", ResourceType.Hardware, textureSize, ResourceFlags.GpuAccessible);
            }

            for (int i = 0; i < banks; i++)
            {
                Load($"L{level}.bank{i}", ResourceType.Hardware, bankSize, ResourceFlags.AudioAccessible);
            }

            for (int i = 0; i < meshes; i++)
            {
                Load($"L{level}.mesh{i}", ResourceType.Memory, meshSize + (level == 2 ? i * 1000 : 0), ResourceFlags.None);
            }

            Load($"L{level}.state", ResourceType.Memory, level == 1 ? 1024 * KiB : 512 * KiB, ResourceFlags.Persistent);
            string vb = $"L{level}.vb";
            events.Add(new TraceEvent(start, TraceOp.Acquire, vb, ResourceType.Memory, 96 * KiB, 32, ResourceFlags.Shareable, Owner: "GraphicsDriver"));
            events.Add(new TraceEvent(start, TraceOp.Share, vb, Owner: "AudioDriver", Target: vb + ".audio"));
            int stream = 0;
            for (int f = start; f <= end; f++)
            {
                if (level == 1 && f > start && (f - start) % 2 == 0 && stream < 24)
                {
                    events.Add(new TraceEvent(f, TraceOp.Acquire, $"L1.stream{stream}", ResourceType.Memory, 256 * KiB, 32, ResourceFlags.Cacheable));
                    assets.Add($"L1.stream{stream}");
                    stream++;
                }

                if (level == 1 && stream >= 2 && (f - start) % 6 == 3)
                {
                    // The player looks back: the sector streamed two steps ago is asked for again (a cache hit while
                    // it is still resident).
                    events.Add(new TraceEvent(f, TraceOp.Acquire, $"L1.stream{stream - 2}", ResourceType.Memory, 256 * KiB, 32, ResourceFlags.Cacheable));
                }

                if (level == 1 && f == start + ((end - start) * 2 / 3))
                {
                    events.Add(new TraceEvent(f, TraceOp.Acquire, "L1.boss", ResourceType.Memory, 3 * 1024 * KiB, 32, ResourceFlags.None, AcquisitionMode.Emergency));
                    assets.Add("L1.boss");

                    // The boss arena replaces the first dock sector: its four meshes go, back under the ordinary limit.
                    for (int i = 0; i < 4; i++)
                    {
                        events.Add(new TraceEvent(f, TraceOp.Release, $"L1.mesh{i}"));
                        assets.Remove($"L1.mesh{i}");
                    }
                }

                if (f == start + 5 && f < end)
                {
                    events.Add(new TraceEvent(f, TraceOp.Release, vb));
                }

                for (int i = 0; i < transient.Length; i++)
                {
                    events.Add(new TraceEvent(f, TraceOp.Acquire, $"frame.t{i}", ResourceType.Memory, transient[i]));
                }

                for (int i = transient.Length - 1; i >= 0; i--)
                {
                    events.Add(new TraceEvent(f, TraceOp.Release, $"frame.t{i}"));
                }
            }

            if (end < start + 5 || start + 5 >= end)
            {
                events.Add(new TraceEvent(end, TraceOp.Release, vb));
            }

            events.Add(new TraceEvent(end, TraceOp.Release, vb + ".audio"));
            for (int i = assets.Count - 1; i >= 0; i--)
            {
                events.Add(new TraceEvent(end, TraceOp.Release, assets[i]));
            }
        }

        return new Workload("game", events, frames);
    }

    /// <summary>Random churn: every frame acquires a few resources of random sizes (64 B to 64 KiB, some in video RAM)
    /// and releases random live ones; every 50 frames a burst of large video allocations fragments video RAM.</summary>
    public static Workload Stress(int frames, int seed)
    {
        var random = new Random(seed);
        var events = new List<TraceEvent>();
        var live = new List<string>();
        int next = 0;
        for (int f = 0; f < frames; f++)
        {
            int acquires = random.Next(4, 12);
            for (int i = 0; i < acquires; i++)
            {
                bool gpu = random.Next(4) == 0;
                long size = 64L << random.Next(0, 11);
                size += random.Next(0, (int)size);
                string id = $"r{next++}";
                events.Add(new TraceEvent(
                    f, TraceOp.Acquire, id, gpu ? ResourceType.Hardware : ResourceType.Memory, size, 0,
                    gpu ? ResourceFlags.GpuAccessible : (random.Next(3) == 0 ? ResourceFlags.Cacheable : ResourceFlags.None)));
                live.Add(id);
            }

            if (f % 50 == 25)
            {
                for (int i = 0; i < 6; i++)
                {
                    string id = $"big{next++}";
                    events.Add(new TraceEvent(f, TraceOp.Acquire, id, ResourceType.Hardware, 160 * 1024, 32, ResourceFlags.GpuAccessible));
                    live.Add(id);
                }
            }

            int releases = Math.Min(live.Count, random.Next(2, 14));
            for (int i = 0; i < releases; i++)
            {
                int pick = random.Next(live.Count);
                events.Add(new TraceEvent(f, TraceOp.Release, live[pick]));
                live[pick] = live[^1];
                live.RemoveAt(live.Count - 1);
            }
        }

        foreach (string id in live)
        {
            events.Add(new TraceEvent(frames - 1, TraceOp.Release, id));
        }

        return new Workload("stress", events, frames);
    }

    /// <summary>Video RAM kept nearly full by GPU buffers of mixed sizes (16 to 128 KiB, counted as Memory: vertex
    /// buffers and render targets), a few replaced every frame, so holes scatter; every 20 frames a 512 KiB render
    /// target is asked for and kept for 10 frames. On dreamcast (8 MiB of video RAM) the holes add up to far more than
    /// 512 KiB while no single one is that large: the workload that <c>--defrag</c> is for.</summary>
    public static Workload Vram(int frames, int seed)
    {
        const long KiB = 1024;
        var random = new Random(seed);
        var events = new List<TraceEvent>();
        var live = new List<(string Id, long Size)>();
        long bytes = 0;
        int next = 0;
        string? target = null;
        for (int f = 0; f < frames; f++)
        {
            int churn = f == 0 ? 0 : 3;
            for (int i = 0; i < churn && live.Count > 0; i++)
            {
                int pick = random.Next(live.Count);
                events.Add(new TraceEvent(f, TraceOp.Release, live[pick].Id));
                bytes -= live[pick].Size;
                live[pick] = live[^1];
                live.RemoveAt(live.Count - 1);
            }

            while (bytes < 7 * 1024 * KiB)
            {
                long size = 16 * KiB * (1 + random.Next(8));
                string id = $"buf{next++}";
                events.Add(new TraceEvent(f, TraceOp.Acquire, id, ResourceType.Memory, size, 32, ResourceFlags.GpuAccessible));
                live.Add((id, size));
                bytes += size;
            }

            if (f % 20 == 10 && target != null)
            {
                events.Add(new TraceEvent(f, TraceOp.Release, target));
                target = null;
            }

            if (f % 20 == 0)
            {
                target = $"rt{next++}";
                events.Add(new TraceEvent(f, TraceOp.Acquire, target, ResourceType.Memory, 512 * KiB, 32, ResourceFlags.GpuAccessible));
            }
        }

        // A refused render target is skipped by the replay's release; whatever is alive at the end is released.
        if (target != null)
        {
            events.Add(new TraceEvent(frames - 1, TraceOp.Release, target));
        }

        foreach ((string id, _) in live)
        {
            events.Add(new TraceEvent(frames - 1, TraceOp.Release, id));
        }

        return new Workload("vram", events, frames);
    }
}
