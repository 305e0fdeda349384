using System.Collections.Concurrent;
using System.Diagnostics;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Management;

/// <summary>Four threads acquire and release at random on one manager; every few hundred operations they all meet at a
/// barrier, and at that quiescent point the manager's accounting, pressure and live count must match what the threads
/// hold between them.</summary>
public class ResourceManagerConcurrencyInvariantTests
{
    private const int Threads = 4;
    private const int OperationsPerPhase = 300;
    private const int MaxHeld = 24;
    private static readonly TimeSpan RunFor = TimeSpan.FromSeconds(1.2);
    private static readonly TimeSpan BarrierTimeout = TimeSpan.FromSeconds(30);
    private static readonly ResourceType[] Types = [ResourceType.Memory, ResourceType.Hardware];

    [Fact]
    public void ManyThreads_RandomAcquireRelease_InvariantsHoldAtEveryBarrier()
    {
        // Arrange
        var allocator = new TrackingAllocator();
        var manager = new ResourceManager(TestProfiles.Small(), new ResourceManagerOptions { Allocator = allocator });
        manager.SetBudget(ResourceType.Memory, new ResourceBudget(160 * 1024, 16 * 1024));
        manager.SetBudget(ResourceType.Hardware, new ResourceBudget(96 * 1024, 8 * 1024));
        ResourceOwner[] owners = [manager.GetOwner("A"), manager.GetOwner("B")];
        var delivered = new int[ResourceTypes.Count];
        using IDisposable registration = manager.RegisterPressureCallback(
            (in PressureChange change) => Volatile.Write(ref delivered[(int)change.Type], (int)change.Current));
        var problems = new ConcurrentQueue<string>();
        var states = new ThreadState[Threads];
        for (int t = 0; t < Threads; t++)
        {
            states[t] = new ThreadState(t, new Random(5_000 + t));
        }

        var clock = Stopwatch.StartNew();
        int phases = 0;
        bool stop = false;
        using var barrier = new Barrier(Threads, _ =>
        {
            // Quiescent: every thread is waiting here, so the manager is idle and the threads' holdings are exact.
            phases++;
            try
            {
                CheckInvariants(manager, states, delivered, problems, phases);
            }
            catch (Exception exception)
            {
                problems.Enqueue($"phase {phases}: the check threw {exception}");
            }

            Volatile.Write(ref stop, clock.Elapsed >= RunFor || problems.Count > 20);
        });

        // Act
        var workers = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            ThreadState state = states[t];
            workers[t] = new Thread(() =>
            {
                while (true)
                {
                    for (int i = 0; i < OperationsPerPhase; i++)
                    {
                        try
                        {
                            state.Operate(manager, owners, problems);
                        }
                        catch (Exception exception)
                        {
                            problems.Enqueue($"thread {state.Id}: {exception}");
                        }
                    }

                    if (!barrier.SignalAndWait(BarrierTimeout))
                    {
                        problems.Enqueue($"thread {state.Id}: barrier timed out");
                        return;
                    }

                    if (Volatile.Read(ref stop))
                    {
                        return;
                    }
                }
            });
            workers[t].Start();
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        // Release everything that is left, then check the manager is back to zero.
        int live;
        bool leakReportEmpty;
        try
        {
            foreach (ThreadState state in states)
            {
                state.ReleaseAll(manager, problems);
            }

            CheckInvariants(manager, states, delivered, problems, phases + 1);
            live = manager.LiveCount;
            leakReportEmpty = manager.CreateLeakReport().IsEmpty;
        }
        finally
        {
            manager.Dispose();
        }

        // Assert
        Assert.Empty(problems);
        Assert.True(phases >= 5, $"only {phases} barrier phases ran");
        Assert.Equal(0, live);
        Assert.True(leakReportEmpty);
        Assert.Equal(0, allocator.LiveBytes);
        Assert.True(states.Sum(s => s.Acquired) > phases * Threads * OperationsPerPhase / 4, "too few acquisitions succeeded");
        Assert.True(states.Sum(s => s.Shared) > phases, "too few shares");
    }

    private static void CheckInvariants(ResourceManager manager, ThreadState[] states, int[] delivered, ConcurrentQueue<string> problems, int phase)
    {
        var bytes = new long[ResourceTypes.Count];
        var memories = new long[ResourceTypes.Count];
        int handles = 0;
        foreach (ThreadState state in states)
        {
            handles += state.Handles.Count;
            foreach (HeldMemory memory in state.Memories.Values)
            {
                bytes[(int)memory.Type] += memory.Size;
                memories[(int)memory.Type]++;
            }
        }

        foreach (ResourceType type in Types)
        {
            ResourceStats stats = manager.GetStats(type);
            ResourcePressure pressure = manager.GetPressure(type);
            ResourcePressure expected = manager.GetBudget(type).PressureAt(stats.CurrentBytes);
            Report(problems, phase, stats.CurrentBytes == bytes[(int)type], $"{type} CurrentBytes {stats.CurrentBytes}, threads hold {bytes[(int)type]}");
            Report(problems, phase, pressure == expected, $"{type} GetPressure {pressure}, PressureAt(CurrentBytes) {expected}");
            Report(problems, phase, (ResourcePressure)Volatile.Read(ref delivered[(int)type]) == pressure,
                $"{type} last delivered level {(ResourcePressure)delivered[(int)type]}, published {pressure}");
            Report(problems, phase, stats.Acquisitions - stats.Releases == memories[(int)type],
                $"{type} Acquisitions {stats.Acquisitions} - Releases {stats.Releases} != {memories[(int)type]} live memories");
        }

        int live = manager.LiveCount;
        Report(problems, phase, live == handles, $"LiveCount {live}, threads hold {handles} handles");
        int reported = manager.CreateLeakReport().Count;
        Report(problems, phase, reported == handles, $"leak report lists {reported}, threads hold {handles} handles");
    }

    private static void Report(ConcurrentQueue<string> problems, int phase, bool ok, string message)
    {
        if (!ok)
        {
            problems.Enqueue($"phase {phase}: {message}");
        }
    }

    /// <summary>Memory held by one thread, behind one or two of its handles.</summary>
    private sealed class HeldMemory(ResourceType type, long size, byte stamp)
    {
        public ResourceType Type { get; } = type;

        public long Size { get; } = size;

        public byte Stamp { get; } = stamp;

        public int Handles { get; set; } = 1;
    }

    private readonly record struct HeldHandle(ResourceHandle Handle, int Memory, int Owner);

    private sealed class ThreadState(int id, Random random)
    {
        private int _nextMemory;

        public int Id { get; } = id;

        public List<HeldHandle> Handles { get; } = new();

        public Dictionary<int, HeldMemory> Memories { get; } = new();

        public int Acquired { get; private set; }

        public int Shared { get; private set; }

        public void Operate(ResourceManager manager, ResourceOwner[] owners, ConcurrentQueue<string> problems)
        {
            if (Handles.Count > 0 && (Handles.Count >= MaxHeld || random.Next(100) < 45))
            {
                Release(manager, owners, random.Next(Handles.Count), problems);
                return;
            }

            int kind = random.Next(5);
            ResourceType type = kind == 3 && random.Next(2) == 0 ? ResourceType.Hardware : ResourceType.Memory;
            long size = kind switch
            {
                0 => random.Next(2) == 0 ? random.Next(1, 65) : random.Next(65, 257),   // pooled
                1 => random.Next(1, 2049),                                              // named
                2 => random.Next(1, 4097),                                              // owned
                3 => random.Next(2048, 12 * 1024),                                      // region-sized
                _ => random.Next(64, 4097),                                             // shareable, then shared
            };
            ResourceFlags flags = kind switch
            {
                3 when type == ResourceType.Hardware => ResourceFlags.GpuAccessible,
                4 => ResourceFlags.Shareable,
                _ => ResourceFlags.None,
            };
            string? name = kind == 1 ? (random.Next(3) == 0 ? $"thread-{Id}" : random.Next(2) == 0 ? "shared-a" : "shared-b") : null;
            int owner = kind == 2 ? 1 + random.Next(2) : kind == 4 ? 1 : 0;
            var md = new ResourceMetadata(type, size, flags: flags);
            ResourceStatus status = manager.TryAcquire(md, out ResourceHandle handle, name, owner: owner == 0 ? default : owners[owner - 1]);
            if (status != ResourceStatus.Ok)
            {
                if (status is not (ResourceStatus.BudgetExceeded or ResourceStatus.RegionExhausted or ResourceStatus.Fragmented))
                {
                    problems.Enqueue($"thread {Id}: TryAcquire({type}, {size}) returned {status}");
                }

                return;
            }

            int memory = _nextMemory++;
            byte stamp = (byte)((Id * 64) + (memory % 61) + 1);
            manager.Resolve(handle).Fill(stamp);
            Memories.Add(memory, new HeldMemory(type, size, stamp));
            Handles.Add(new HeldHandle(handle, memory, owner));
            Acquired++;
            if (kind == 4)
            {
                ResourceStatus shared = manager.TryShare(handle, owners[1], out ResourceHandle second);
                if (shared != ResourceStatus.Ok)
                {
                    problems.Enqueue($"thread {Id}: TryShare returned {shared}");
                    return;
                }

                Memories[memory].Handles++;
                Handles.Add(new HeldHandle(second, memory, 2));
                Shared++;
            }
        }

        public void ReleaseAll(ResourceManager manager, ConcurrentQueue<string> problems)
        {
            while (Handles.Count > 0)
            {
                Release(manager, owners: null, Handles.Count - 1, problems);
            }
        }

        private void Release(ResourceManager manager, ResourceOwner[]? owners, int index, ConcurrentQueue<string> problems)
        {
            HeldHandle held = Handles[index];
            HeldMemory memory = Memories[held.Memory];
            Span<byte> bytes = manager.Resolve(held.Handle);
            if (bytes.Length != memory.Size || bytes.IndexOfAnyExcept(memory.Stamp) >= 0)
            {
                problems.Enqueue($"thread {Id}: {held.Handle} resolves to {bytes.Length} bytes, or its stamp was overwritten");
            }

            ResourceStatus status = owners != null && held.Owner != 0 && random.Next(2) == 0
                ? manager.Release(held.Handle, owners[held.Owner - 1])
                : manager.Release(held.Handle);
            if (status != ResourceStatus.Ok)
            {
                problems.Enqueue($"thread {Id}: Release({held.Handle}) returned {status}");
                return;
            }

            Handles[index] = Handles[^1];
            Handles.RemoveAt(Handles.Count - 1);
            if (--memory.Handles == 0)
            {
                Memories.Remove(held.Memory);
            }
        }
    }
}
