using System.Text;
using System.Text.Json;
using Flight.Hal.Resources.Simulator;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Diagnostics;

/// <summary>The recorder: a live run written as the simulator's trace and replayed by the simulator reproduces every
/// type's peak exactly; recording allocates nothing per event, keeps every event of concurrent threads, and fails
/// clearly without touching the manager.</summary>
public class ResourceRecorderTests
{
    private static readonly ResourceType[] Types = Enum.GetValues<ResourceType>();

    private static Workload Parse(byte[] trace) => TraceParser.ParseJson(Encoding.UTF8.GetString(trace), "recorded", "recorded.json");

    [Theory]
    [InlineData("dreamcast", "game")]
    [InlineData("dreamcast", "stress")]
    [InlineData("desktop", "game")]
    [InlineData("desktop", "stress")]
    [InlineData("nds", "game")]
    public void ASimulatorRun_RecordedAndReplayed_ReachesTheSamePeaks(string profileName, string workloadName)
    {
        PlatformProfile profile = PlatformProfile.Get(profileName);
        Assert.True(Workloads.TryCreate(workloadName, 600, seed: 5, out Workload workload));
        var trace = new MemoryStream();

        SimulationResult live = Simulation.Run(profile, workload, 600, record: trace);
        Workload recorded = Parse(trace.ToArray());
        SimulationResult replay = Simulation.Run(profile, recorded, recorded.FrameCount);

        foreach (ResourceType type in Types)
        {
            Assert.Equal(live.Types[(int)type].Stats.PeakBytes, replay.Types[(int)type].Stats.PeakBytes);
        }

        // Only successful operations are recorded: the replay makes exactly the live run's successful acquisitions that
        // reached the manager (cache hits never did), and fails none of them.
        Assert.Equal(0, replay.FailedAcquisitions);
        Assert.Equal(live.Types.Sum(t => t.Stats.Acquisitions), replay.Types.Sum(t => t.Stats.Acquisitions));
    }

    [Fact]
    public void ADirectProgram_RecordedWithFrameMarks_ReplaysToItsPeaks()
    {
        PlatformProfile profile = PlatformProfile.Get("dreamcast");
        var trace = new MemoryStream();
        var peaks = new long[Types.Length];
        using (var manager = new ResourceManager(profile))
        {
            ResourceHandle early = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100_000), name: "early"); // alive at start
            using ResourceRecorder recorder = ResourceRecorder.Start(manager, trace);
            ResourceOwner gpu = manager.GetOwner("gpu");
            ResourceOwner audio = manager.GetOwner("audio");
            var frameTextures = new List<ResourceHandle>();
            for (int frame = 0; frame < 20; frame++)
            {
                manager.MarkFrame();
                manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64)));                 // pooled
                frameTextures.Add(manager.Acquire(
                    new ResourceMetadata(ResourceType.Hardware, 64 * 1024, 32, ResourceFlags.GpuAccessible | ResourceFlags.Shareable),
                    name: "tex" + frame, owner: gpu));                                                             // video RAM
                ResourceHandle shared = manager.Share(frameTextures[^1], audio);
                if (frame % 3 == 0)
                {
                    manager.Release(shared);
                    manager.Release(frameTextures[0]);
                    frameTextures.RemoveAt(0);
                }
            }

            ResourceHandle boss = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 2_000_000), mode: AcquisitionMode.Emergency);
            manager.Release(boss);
            manager.Release(early);
            recorder.Stop();
            Assert.Equal(20, manager.CurrentFrame);
            for (int t = 0; t < Types.Length; t++)
            {
                peaks[t] = manager.GetStats(Types[t]).PeakBytes;
            }
        }

        using JsonDocument document = JsonDocument.Parse(trace.ToArray());
        JsonElement first = document.RootElement.GetProperty("events")[0];
        Assert.Equal((0, "acquire", 100_000), (first.GetProperty("frame").GetInt32(), first.GetProperty("op").GetString(), first.GetProperty("size").GetInt32()));
        Assert.Equal("dreamcast", document.RootElement.GetProperty("profile").GetString());
        Workload recorded = Parse(trace.ToArray());
        Assert.Equal(21, recorded.FrameCount); // frame 0 (before the first mark: "early") and the 20 marked frames
        Assert.Contains(recorded.Events, e => e.Op == TraceOp.Share && e.Owner == "audio");
        Assert.Contains(recorded.Events, e => e.Mode == AcquisitionMode.Emergency && e.Size == 2_000_000);
        Assert.Contains(recorded.Events, e => e.Owner == "gpu" && e.Alignment == 32 && e.Flags.HasFlag(ResourceFlags.GpuAccessible));

        SimulationResult replay = Simulation.Run(profile, recorded, recorded.FrameCount);
        for (int t = 0; t < Types.Length; t++)
        {
            Assert.Equal(peaks[t], replay.Types[t].Stats.PeakBytes);
        }
    }

    [Fact]
    public void Recording_AllocatesNothingPerEvent()
    {
        using var manager = new ResourceManager(PlatformProfile.Get("desktop"));
        using ResourceRecorder recorder = ResourceRecorder.Start(manager, Stream.Null, new ResourceRecorderOptions { BufferEvents = 1 << 16 });
        var metadata = new ResourceMetadata(ResourceType.Memory, 64);
        for (int i = 0; i < 100; i++)
        {
            manager.Release(manager.Acquire(in metadata)); // warm up
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            manager.TryAcquire(in metadata, out ResourceHandle handle);
            manager.Release(handle);
            if (i % 100 == 0)
            {
                manager.MarkFrame();
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(20_200, recorder.EventsRecorded);
    }

    [Fact]
    public async Task ConcurrentThreads_AreRecordedExactly_InAValidOrder()
    {
        using var manager = new ResourceManager(PlatformProfile.Get("desktop"));
        var trace = new MemoryStream();
        ResourceRecorder recorder = ResourceRecorder.Start(manager, trace, new ResourceRecorderOptions { BufferEvents = 256 }); // many buffer swaps
        ResourceOwner shared = manager.GetOwner("other");
        Task[] workers = [.. Enumerable.Range(0, 4).Select(w => Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < 3000; i++)
            {
                ResourceHandle a = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 64));
                ResourceHandle b = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 5000, flags: ResourceFlags.Shareable), name: $"w{w}");
                ResourceHandle c = manager.Share(b, shared);
                manager.Release(b); // the memory lives on in c
                manager.Release(a);
                manager.Release(c);
            }
        }, TaskCreationOptions.LongRunning))];
        await Task.WhenAll(workers);
        recorder.Stop();

        Workload recorded = Parse(trace.ToArray()); // every release and share follows what it names, or this throws
        Assert.Equal(4 * 3000 * 2, recorded.Events.Count(e => e.Op == TraceOp.Acquire));
        Assert.Equal(4 * 3000 * 3, recorded.Events.Count(e => e.Op == TraceOp.Release));
        Assert.Equal(4 * 3000, recorded.Events.Count(e => e.Op == TraceOp.Share));
        Assert.Equal(4 * 3000 * 6, recorder.EventsRecorded);
    }

    [Fact]
    public void AnUnwritablePath_FailsClearly_AndLeavesTheManagerAsItWas()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        string path = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "run.json");

        Assert.ThrowsAny<IOException>(() => ResourceRecorder.Start(manager, path));

        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100)));
        string file = Path.Combine(Path.GetTempPath(), "fhr-run-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            using (ResourceRecorder.Start(manager, file))  // nothing was left attached
            {
                manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100)));
            }

            Assert.Equal(2, Parse(File.ReadAllBytes(file)).Events.Count);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void AFailingWrite_StopsTheRecording_AndStopSaysWhy_WhileTheManagerGoesOn()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var failing = new FailingStream(failAfterBytes: 2000);
        ResourceRecorder recorder = ResourceRecorder.Start(manager, failing, new ResourceRecorderOptions { BufferEvents = 64 });
        for (int i = 0; i < 2000; i++)
        {
            manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100)));
        }

        Eventually.Holds(() => recorder.WriteError != null, "the write failed");
        Assert.False(recorder.IsRecording);
        IOException error = Assert.Throws<IOException>(recorder.Stop);
        Assert.Contains("disk full", error.Message, StringComparison.Ordinal);
        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100)));
        Assert.Equal(0, manager.GetStats(ResourceType.Memory).CurrentBytes);
        using ResourceRecorder again = ResourceRecorder.Start(manager, Stream.Null); // detached: another may attach
    }

    [Fact]
    public void OneRecorderAtATime_StopIsIdempotent_AndNothingIsRecordedAfterIt()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        ResourceRecorder first = ResourceRecorder.Start(manager, Stream.Null);
        Assert.Throws<InvalidOperationException>(() => ResourceRecorder.Start(manager, Stream.Null));
        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100)));
        first.Stop();
        first.Stop();
        Assert.Equal(2, first.EventsRecorded);
        manager.Release(manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100)));
        Assert.Equal(2, first.EventsRecorded);
        Assert.False(first.IsRecording);

        Assert.Throws<ArgumentNullException>(() => ResourceRecorder.Start(null!, Stream.Null));
        Assert.Throws<ArgumentNullException>(() => ResourceRecorder.Start(manager, (Stream)null!));
        Assert.Throws<ArgumentException>(() => ResourceRecorder.Start(manager, ""));
        Assert.Throws<ArgumentException>(() => ResourceRecorder.Start(manager, new MemoryStream([], writable: false)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceRecorder.Start(manager, Stream.Null, new ResourceRecorderOptions { BufferEvents = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ResourceRecorder.Start(manager, Stream.Null, new ResourceRecorderOptions { FrameDuration = TimeSpan.Zero }));
        manager.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ResourceRecorder.Start(manager, Stream.Null));
        Assert.Throws<ObjectDisposedException>(() => manager.MarkFrame());
    }

    [Fact]
    public void DisposingTheManager_FinishesTheTrace()
    {
        var trace = new MemoryStream();
        var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { LeakReported = _ => { } });
        ResourceRecorder recorder = ResourceRecorder.Start(manager, trace);
        manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100), owner: manager.GetOwner("level"));
        manager.Dispose();

        Assert.False(recorder.IsRecording);
        TraceEvent only = Assert.Single(Parse(trace.ToArray()).Events);
        Assert.Equal("level", only.Owner);
        recorder.Dispose();
    }

    [Fact]
    public void WithoutFrameMarks_FramesComeFromWallTime()
    {
        using var manager = new ResourceManager(TestProfiles.Small());
        var trace = new MemoryStream();
        using (ResourceRecorder.Start(manager, trace, new ResourceRecorderOptions { FrameDuration = TimeSpan.FromMilliseconds(5) }))
        {
            ResourceHandle first = manager.Acquire(new ResourceMetadata(ResourceType.Memory, 100));
            Thread.Sleep(60);
            manager.Release(first);
        }

        Workload recorded = Parse(trace.ToArray());
        Assert.Equal(0, recorded.Events[0].Frame);
        Assert.InRange(recorded.Events[1].Frame, 10, 1000); // 60 ms or more later, in 5 ms frames
    }

    /// <summary>A stream that fails like a full disk after some bytes.</summary>
    private sealed class FailingStream(int failAfterBytes) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Length + buffer.Length > failAfterBytes)
            {
                throw new IOException("disk full");
            }

            base.Write(buffer);
        }
    }
}
