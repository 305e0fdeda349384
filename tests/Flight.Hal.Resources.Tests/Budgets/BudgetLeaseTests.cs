namespace Flight.Hal.Resources.Tests.Budgets;

/// <summary>Per-thread budget leases (a thread keeps bytes it releases and serves its next ordinary reservations from
/// them without an atomic): the published figures stay those of plain accounting — at every step on one thread, at
/// every quiescent point with many — and a request is refused only when the budget truly has no room.</summary>
public class BudgetLeaseTests
{
    private const ResourceType Memory = ResourceType.Memory;

    private static ResourceBudgetManager Budgets(long max, long reserved = 0) =>
        new(new Dictionary<ResourceType, ResourceBudget> { [Memory] = new(max, reserved, 80, 95) });

    /// <summary>The plain model: what every figure must be after each operation on one thread.</summary>
    private sealed class Model(ResourceBudget budget)
    {
        public ResourceBudget Budget = budget;
        public long Current;
        public long Peak;
        public long Acquisitions;
        public long Releases;
        public long Failures;
        public long ReserveAcquisitions;
        public long Overruns;

        public ResourceStatus Reserve(long bytes, BudgetMode mode)
        {
            long limit = mode switch
            {
                BudgetMode.Ordinary => Budget.OrdinaryLimit,
                BudgetMode.UseReserve => Budget.MaxBytes,
                _ => long.MaxValue,
            };
            if (Current + bytes > limit)
            {
                Failures++;
                return ResourceStatus.BudgetExceeded;
            }

            Current += bytes;
            Acquisitions++;
            if (Current > Budget.OrdinaryLimit)
            {
                ReserveAcquisitions++;
                if (Current > Budget.MaxBytes)
                {
                    Overruns++;
                }
            }

            Peak = Math.Max(Peak, Current);
            return ResourceStatus.Ok;
        }

        public void Check(ResourceBudgetManager budgets, int seed, int step, string op)
        {
            ResourceStats s = budgets.GetStats(Memory);
            string at = $"seed {seed}, step {step}, {op}";
            Assert.True(Current == s.CurrentBytes, $"{at}: current {s.CurrentBytes}, expected {Current}");
            Assert.True(Peak == s.PeakBytes, $"{at}: peak {s.PeakBytes}, expected {Peak}");
            Assert.True(Acquisitions == s.Acquisitions, $"{at}: acquisitions {s.Acquisitions}, expected {Acquisitions}");
            Assert.True(Releases == s.Releases, $"{at}: releases {s.Releases}, expected {Releases}");
            Assert.True(Failures == s.Failures, $"{at}: failures {s.Failures}, expected {Failures}");
            Assert.True(ReserveAcquisitions == s.ReserveAcquisitions, $"{at}: reserve acquisitions {s.ReserveAcquisitions}, expected {ReserveAcquisitions}");
            Assert.True(Overruns == s.EmergencyOverruns, $"{at}: overruns {s.EmergencyOverruns}, expected {Overruns}");
            ResourcePressure level = Budget.PressureAt(Current);
            Assert.True(level == budgets.GetPressure(Memory), $"{at}: level {budgets.GetPressure(Memory)}, expected {level}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomOperations_OneThread_MatchThePlainModelAtEveryStep(int seed)
    {
        var random = new Random(seed);
        var budgets = Budgets(10_000, 1_000);
        var model = new Model(budgets.GetBudget(Memory));
        var held = new List<long>();
        var levels = new List<ResourcePressure>();
        budgets.RegisterPressureCallback((in PressureChange change) => levels.Add(change.Current));
        int stepsWithLeases = 0;

        for (int step = 0; step < 20_000; step++)
        {
            int roll = random.Next(100);
            string op;
            if (roll < 45)
            {
                // Sizes that cross bands and limits often: small, medium, and now and then most of the budget.
                long bytes = random.Next(10) == 0 ? random.Next(1, 9_000) : random.Next(1, 700);
                var mode = (BudgetMode)(random.Next(10) switch { < 8 => 0, 8 => 1, _ => 2 });
                op = $"TryReserve({bytes}, {mode})";
                ResourceStatus expected = model.Reserve(bytes, mode);
                Assert.True(expected == budgets.TryReserve(Memory, bytes, mode), $"seed {seed}, step {step}, {op}");
                if (expected == ResourceStatus.Ok)
                {
                    held.Add(bytes);
                }
            }
            else if (roll < 90 && held.Count > 0)
            {
                int i = random.Next(held.Count);
                long bytes = held[i];
                held[i] = held[^1];
                held.RemoveAt(held.Count - 1);
                op = $"Release({bytes})";
                budgets.Release(Memory, bytes);
                model.Current -= bytes;
                model.Releases++;
            }
            else if (roll < 95)
            {
                long bytes = model.Current + 1 + random.Next(100);
                op = $"Release({bytes}) more than reserved";
                Assert.Throws<InvalidOperationException>(() => budgets.Release(Memory, bytes));
            }
            else if (roll < 97)
            {
                var budget = new ResourceBudget(random.Next(2) == 0 ? 10_000 : 20_000, random.Next(0, 2_000), 80, 95);
                op = $"SetBudget({budget.MaxBytes}, {budget.ReservedBytes})";
                budgets.SetBudget(Memory, budget);
                model.Budget = budget;
            }
            else
            {
                op = "GetStats";
            }

            model.Check(budgets, seed, step, op);
            stepsWithLeases += budgets.LeasedBytes(Memory) > 0 ? 1 : 0;
        }

        // The leases were in play for a good part of the run (else this test would check plain accounting only).
        Assert.True(stepsWithLeases > 2_000, $"leases held at {stepsWithLeases} of 20,000 steps");

        // Every level change was delivered, and the last delivery is the level now.
        Assert.NotEmpty(levels);
        Assert.Equal(budgets.GetPressure(Memory), levels[^1]);
    }

    [Fact]
    public void LeaseOfAnotherLiveThread_IsTakenBack_BeforeARefusal()
    {
        var budgets = Budgets(10_000);
        using var leased = new ManualResetEventSlim();
        using var done = new ManualResetEventSlim();

        // The other thread reserves 1,000 bytes twice and releases both: it keeps them as its lease.
        var thread = new Thread(() =>
        {
            budgets.Reserve(Memory, 1_000);
            budgets.Reserve(Memory, 1_000);
            budgets.Release(Memory, 1_000);
            budgets.Release(Memory, 1_000);
            leased.Set();
            done.Wait(); // stays alive, holding its lease, while this thread reserves
        });
        thread.Start();
        leased.Wait();
        Assert.Equal(0, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(2_000, budgets.LeasedBytes(Memory));

        // The whole budget is free, so the whole budget may be reserved here.
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(Memory, 10_000));
        Assert.Equal(ResourceStatus.BudgetExceeded, budgets.TryReserve(Memory, 1));
        ResourceStats stats = budgets.GetStats(Memory);
        Assert.Equal(10_000, stats.CurrentBytes);
        Assert.Equal(10_000, stats.PeakBytes);
        Assert.Equal(ResourcePressure.Critical, budgets.GetPressure(Memory));
        done.Set();
        thread.Join();

        budgets.Release(Memory, 10_000);
        Assert.Equal(0, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(ResourcePressure.None, budgets.GetPressure(Memory));
    }

    [Fact]
    public void LeaseOfAnExitedThread_IsTakenBack_BeforeARefusal()
    {
        var budgets = Budgets(10_000);
        var thread = new Thread(() =>
        {
            budgets.Reserve(Memory, 1_000);
            budgets.Reserve(Memory, 1_000);
            budgets.Release(Memory, 1_000);
            budgets.Release(Memory, 1_000);
        });
        thread.Start();
        thread.Join();

        Assert.Equal(0, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(2_000, budgets.LeasedBytes(Memory));
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(Memory, 10_000));
        Assert.Equal(10_000, budgets.GetStats(Memory).CurrentBytes);
    }

    [Fact]
    public void AnotherThreadsLease_DoesNotHideANewPeakOrLevel()
    {
        var budgets = Budgets(10_000);
        var thread = new Thread(() =>
        {
            budgets.Reserve(Memory, 1_000);
            budgets.Reserve(Memory, 1_000);
            budgets.Release(Memory, 1_000); // kept as a lease: usage 1,000, usage plus leases 2,000
        });
        thread.Start();
        thread.Join();
        Assert.Equal(1_000, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(2_000, budgets.GetStats(Memory).PeakBytes);
        Assert.Equal(1_000, budgets.LeasedBytes(Memory));

        // 1,000 + 1,500 = 2,500: a new peak, and Low (25 %) begins at 2,500.
        budgets.Reserve(Memory, 1_500);
        ResourceStats stats = budgets.GetStats(Memory);
        Assert.Equal(2_500, stats.CurrentBytes);
        Assert.Equal(2_500, stats.PeakBytes);
        Assert.Equal(ResourcePressure.Low, budgets.GetPressure(Memory));

        budgets.Release(Memory, 1_500);
        Assert.Equal(1_000, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(ResourcePressure.None, budgets.GetPressure(Memory));
    }

    [Fact]
    public void SetBudget_WhileAnotherThreadHoldsALease_PublishesTheNewLevelExactly()
    {
        var budgets = Budgets(10_000);
        var thread = new Thread(() =>
        {
            budgets.Reserve(Memory, 1_000);
            budgets.Reserve(Memory, 1_000);
            budgets.Release(Memory, 1_000);
        });
        thread.Start();
        thread.Join();
        Assert.Equal(1_000, budgets.LeasedBytes(Memory));

        budgets.SetBudget(Memory, new ResourceBudget(2_000, 0, 80, 95)); // 1,000 of 2,000: Medium
        Assert.Equal(0, budgets.LeasedBytes(Memory));
        Assert.Equal(1_000, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(ResourcePressure.Medium, budgets.GetPressure(Memory));
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(Memory, 1_000)); // the lease was given back: room for all
        Assert.Equal(ResourcePressure.Critical, budgets.GetPressure(Memory));
    }

    [Fact]
    public void ManyThreads_ChurningNearTheLimit_WithBudgetChanges_AddUpExactlyAtQuiescence()
    {
        const int Threads = 4;
        const int Rounds = 20_000;
        var budgets = Budgets(64 * 1024, 4 * 1024);
        long refused = 0;
        long granted = 0;
        using var stop = new CancellationTokenSource();

        var workers = new Thread[Threads];
        for (int w = 0; w < Threads; w++)
        {
            int seed = w;
            workers[w] = new Thread(() =>
            {
                var random = new Random(seed);
                var mine = new List<long>();
                long ok = 0;
                long no = 0;
                for (int i = 0; i < Rounds; i++)
                {
                    if (mine.Count < 8 && random.Next(2) == 0)
                    {
                        long bytes = random.Next(1, 8 * 1024);
                        if (budgets.TryReserve(Memory, bytes) == ResourceStatus.Ok)
                        {
                            mine.Add(bytes);
                            ok++;
                        }
                        else
                        {
                            no++;
                        }
                    }
                    else if (mine.Count > 0)
                    {
                        budgets.Release(Memory, mine[^1]);
                        mine.RemoveAt(mine.Count - 1);
                    }
                }

                foreach (long bytes in mine)
                {
                    budgets.Release(Memory, bytes);
                }

                Interlocked.Add(ref granted, ok);
                Interlocked.Add(ref refused, no);
            });
        }

        // Beside them, a thread moves the budget's bands now and then.
        var changer = new Thread(() =>
        {
            var random = new Random(99);
            while (!stop.IsCancellationRequested)
            {
                budgets.SetBudget(Memory, new ResourceBudget(random.Next(2) == 0 ? 64 * 1024 : 96 * 1024, 4 * 1024, 80, 95));
                Thread.Sleep(1);
            }
        });

        changer.Start();
        foreach (Thread t in workers)
        {
            t.Start();
        }

        foreach (Thread t in workers)
        {
            t.Join();
        }

        stop.Cancel();
        changer.Join();

        ResourceStats stats = budgets.GetStats(Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(granted, stats.Acquisitions);
        Assert.Equal(granted, stats.Releases);
        Assert.Equal(refused, stats.Failures);
        Assert.True(stats.PeakBytes <= 96 * 1024, $"peak {stats.PeakBytes}");
        Assert.Equal(ResourcePressure.None, budgets.GetPressure(Memory));

        // Nothing is left lent out: the whole ordinary limit can be reserved at once.
        long limit = budgets.GetBudget(Memory).OrdinaryLimit;
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(Memory, limit));
        Assert.Equal(limit, budgets.GetStats(Memory).CurrentBytes);
    }

    [Fact]
    public void ManagerPooledPath_OnTwoThreads_AddsUpExactly()
    {
        using var manager = new ResourceManager(PlatformProfile.Get("desktop"));
        var metadata = new ResourceMetadata(Memory, 64);
        long before = manager.GetStats(Memory).Acquisitions;
        var threads = new Thread[2];
        for (int t = 0; t < threads.Length; t++)
        {
            threads[t] = new Thread(() =>
            {
                for (int i = 0; i < 50_000; i++)
                {
                    Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in metadata, out ResourceHandle handle));
                    Assert.Equal(ResourceStatus.Ok, manager.Release(handle));
                }
            });
        }

        foreach (Thread t in threads)
        {
            t.Start();
        }

        foreach (Thread t in threads)
        {
            t.Join();
        }

        ResourceStats stats = manager.GetStats(Memory);
        Assert.Equal(0, stats.CurrentBytes);
        Assert.Equal(before + 100_000, stats.Acquisitions);
        Assert.Equal(stats.Acquisitions, stats.Releases);
        Assert.Equal(ResourcePressure.None, stats.Pressure);
    }

    [Fact]
    public void ManagerPooledPath_WithALeaseAndAFullPool_FallsBackExactly()
    {
        // Dreamcast's 4 KiB pool has 8 blocks and no thread cache: with a lease, a block comes from its shared list.
        using var manager = new ResourceManager(PlatformProfile.Get("dreamcast"));
        var metadata = new ResourceMetadata(Memory, 4096);
        ResourceStats start = manager.GetStats(Memory);
        var live = new List<ResourceHandle>();
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in metadata, out ResourceHandle handle));
            live.Add(handle);
        }

        // The ninth went to the region (the pool is full): the peak is 9 blocks. Releasing it and one pool block leaves
        // 7 in use and the pool block's bytes kept in this thread's lease.
        Assert.NotEqual("pool Memory/4096", manager.GetInfo(live[8]).Placement);
        Assert.Equal(ResourceStatus.Ok, manager.Release(live[8]));
        Assert.Equal(ResourceStatus.Ok, manager.Release(live[7]));
        live.RemoveRange(7, 2);
        Assert.Equal(4096, manager.BudgetsForTests.LeasedBytes(Memory));

        // A named resource takes the free block (usage plus lease: 9 blocks, within the peak, so the lease stays); the
        // next anonymous request finds its bytes in the lease but no block, gives them back and takes the general path.
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in metadata, out ResourceHandle named, "named"));
        live.Add(named);
        Assert.Equal(4096, manager.BudgetsForTests.LeasedBytes(Memory));
        Assert.Equal(ResourceStatus.Ok, manager.TryAcquire(in metadata, out ResourceHandle fallback));
        live.Add(fallback);
        Assert.NotEqual("pool Memory/4096", manager.GetInfo(fallback).Placement);

        ResourceStats stats = manager.GetStats(Memory);
        Assert.Equal(start.CurrentBytes + (9 * 4096), stats.CurrentBytes);
        Assert.Equal(start.PeakBytes + (9 * 4096), stats.PeakBytes);
        Assert.Equal(start.Acquisitions + 11, stats.Acquisitions);
        Assert.Equal(start.Releases + 2, stats.Releases);
        Assert.Equal(stats.Budget.PressureAt(stats.CurrentBytes), stats.Pressure);

        foreach (ResourceHandle handle in live)
        {
            Assert.Equal(ResourceStatus.Ok, manager.Release(handle));
        }

        stats = manager.GetStats(Memory);
        Assert.Equal(start.CurrentBytes, stats.CurrentBytes);
        Assert.Equal(stats.Acquisitions - start.Acquisitions, stats.Releases - start.Releases);
        Assert.Equal(stats.Budget.PressureAt(stats.CurrentBytes), stats.Pressure);
    }

    [Fact]
    public void CallbacksThatReserveAndRelease_WhileLeasesExist_LeaveTheFiguresExact()
    {
        var budgets = Budgets(10_000);
        var held = new List<long>();
        int reentered = 0;

        // A pressure callback that reserves and releases (it may make and use a lease of its own, on this thread), and a
        // reclamation callback that releases what this test holds.
        budgets.RegisterPressureCallback((in PressureChange change) =>
        {
            if (change.Current >= ResourcePressure.Medium && budgets.TryReserve(Memory, 100) == ResourceStatus.Ok)
            {
                reentered++;
                budgets.Release(Memory, 100);
            }
        });
        budgets.RegisterReclamationCallback(Memory, (type, requested) =>
        {
            long freed = 0;
            while (freed < requested && held.Count > 0)
            {
                freed += held[^1];
                budgets.Release(Memory, held[^1]);
                held.RemoveAt(held.Count - 1);
            }

            return freed;
        });

        // A lease made by a release (4,000 in use is Low, whose band starts at 2,500: room for it), then reservations
        // that cross levels up to the limit and past it (reclaimed).
        for (int i = 0; i < 4; i++)
        {
            budgets.Reserve(Memory, 1_000);
            held.Add(1_000);
        }

        budgets.Release(Memory, held[^1]);
        held.RemoveAt(held.Count - 1);
        Assert.True(budgets.LeasedBytes(Memory) > 0, "a lease exists");
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(Memory, 1_500));
            held.Add(1_500);
        }

        long expected = held.Sum();
        ResourceStats stats = budgets.GetStats(Memory);
        Assert.True(reentered > 0, "the pressure callback reserved from inside a delivery");
        Assert.Equal(expected, stats.CurrentBytes);
        Assert.Equal(budgets.GetBudget(Memory).PressureAt(expected), budgets.GetPressure(Memory));
        Assert.True(stats.Reclamations > 0, "the reclamation callback was asked");
        Assert.True(stats.PeakBytes <= 10_000, $"peak {stats.PeakBytes}");

        foreach (long bytes in held)
        {
            budgets.Release(Memory, bytes);
        }

        Assert.Equal(0, budgets.GetStats(Memory).CurrentBytes);
        Assert.Equal(ResourcePressure.None, budgets.GetPressure(Memory));
        Assert.Equal(ResourceStatus.Ok, budgets.TryReserve(Memory, 10_000)); // nothing left lent out
    }
}
