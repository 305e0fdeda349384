using System.Runtime.InteropServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Memory;

/// <summary>Seeded random rent/return/lookup sequences on small <see cref="SlabPool"/>s (unsynchronised and thread-safe,
/// with and without a thread cache, used from one thread), each step checked against a model of the rented blocks:
/// statuses, statistics, spans, and a stamp written over every rented block that must be intact whenever the block is
/// touched (two blocks that overlap, or a block handed out twice, overwrite each other's stamps).</summary>
public class SlabPoolModelTests
{
    private const int Steps = 80_000;
    private const int FullCheckEvery = 512;
    private const int MaxNearWrap = 3;

    private enum Expect
    {
        Live,
        Stale,
        Invalid,
        Foreign,
    }

    [Theory]
    [InlineData(11, false, -1, 40, 8, 48, 0, 16)]     // unsynchronised, grows slab by slab
    [InlineData(12, true, 0, 48, 16, 40, 8, 8)]       // thread-safe, no cache: exact counts
    [InlineData(13, true, -1, 64, 64, 100, 0, 32)]    // thread-safe, default cache (6 blocks)
    [InlineData(14, true, 4, 24, 32, 33, 16, 0)]      // thread-safe, small cache; a partial last slab
    [InlineData(15, false, -1, 100, 32, 64, 64, 0)]   // unsynchronised, everything allocated up front
    public void RandomOperations_CheckedAgainstModel_MatchAtEveryStep(
        int seed, bool threadSafe, int threadCacheSize, int blockSize, int alignment, int maxCount, int initialCount, int blocksPerSlab)
    {
        // Arrange
        var config = new PoolConfig
        {
            BlockSize = blockSize,
            Alignment = alignment,
            MaxCount = maxCount,
            InitialCount = initialCount,
            BlocksPerSlab = blocksPerSlab,
            ThreadSafe = threadSafe,
            ThreadCacheSize = threadCacheSize,
            Type = ResourceType.Hardware,
        };
        var trace = new ModelTrace(nameof(SlabPoolModelTests), seed);
        var random = new Random(seed);
        var allocator = new TrackingAllocator();
        var foreign = new List<ulong>();
        using (var gone = new SlabPool(new PoolConfig { BlockSize = 64, MaxCount = 4 }))
        {
            foreign.Add(gone.Rent().RawValue);
            foreign.Add(gone.Rent().RawValue);
        }

        using var other = new SlabPool(new PoolConfig { BlockSize = blockSize, MaxCount = 4 });
        foreign.Add(other.Rent().RawValue);
        foreign.Add(other.Rent().RawValue);
        using var table = new HandleTable<int>(2);
        foreign.Add(table.Allocate(5).RawValue);

        var pool = new SlabPool(config, allocator);
        var run = new Run(pool, config, allocator, trace, random, foreign);
        try
        {
            // Act and Assert: every step is checked as it runs.
            for (int step = 0; step < Steps; step++)
            {
                run.Step(step);
            }

            trace.Begin(Steps, "final");
            run.FullCheck();
        }
        finally
        {
            pool.Dispose();
        }
        Assert.Equal(0, allocator.LiveBytes);
        Assert.True(run.Rents > Steps / 5, $"seed {seed}: only {run.Rents} rents");
        Assert.True(run.Exhausted > 50, $"seed {seed}: the pool ran out only {run.Exhausted} times");
        Assert.True(run.StaleProbes > Steps / 20, $"seed {seed}: only {run.StaleProbes} stale probes");
        Assert.True(run.Retired > 0, $"seed {seed}: no block reached the generation wrap point");
    }

    private sealed class Run(SlabPool pool, PoolConfig config, TrackingAllocator allocator, ModelTrace trace, Random random, List<ulong> foreign)
    {
        private readonly ModelMap<nint> _live = new();   // rented handle -> its block's address
        private readonly List<ulong> _issued = new();
        private readonly HashSet<ulong> _everIssued = new();
        private readonly int _cacheSize = !config.ThreadSafe ? 0 : config.ThreadCacheSize >= 0
            ? config.ThreadCacheSize
            : Math.Min(32, config.MaxCount / 16);

        private int _peak;
        private int _retired;
        private int _nearWrap;
        private PoolStats _previous;

        public int Rents { get; private set; }

        public int Exhausted { get; private set; }

        public int StaleProbes { get; private set; }

        public int Retired => _retired;

        public void Step(int step)
        {
            // Phases of 2,048 steps tilt the mix: balanced, filling (the pool runs out), draining.
            int phase = (step >> 11) % 3;
            int roll = random.Next(1000);
            if (phase != 0 && random.Next(4) == 0)
            {
                roll = phase == 1 || _live.Count == 0 ? 0 : 350;
            }

            switch (roll)
            {
                case < 330:
                    trace.Begin(step, "Rent");
                    Rent();
                    break;
                case < 560:
                    if (_live.Count == 0)
                    {
                        trace.Begin(step, "Rent");
                        Rent();
                        break;
                    }

                    ulong victim = _live.RandomKey(random);
                    trace.Begin(step, "Return(live)", victim);
                    Return(victim);
                    break;
                case < 650:
                    ulong returnProbe = PickProbe();
                    trace.Begin(step, "Return(probe)", returnProbe);
                    Return(returnProbe);
                    break;
                case < 760:
                    ulong spanProbe = PickProbe();
                    trace.Begin(step, "TryGetSpan", spanProbe);
                    TryGetSpan(spanProbe);
                    break;
                case < 820:
                    ulong resolveProbe = PickProbe();
                    trace.Begin(step, "TryResolve", resolveProbe);
                    TryResolve(resolveProbe);
                    break;
                case < 860:
                    ulong getProbe = PickProbe();
                    trace.Begin(step, "GetSpan", getProbe);
                    GetSpan(getProbe);
                    break;
                case < 910:
                    ulong containsProbe = PickProbe();
                    trace.Begin(step, "Contains", containsProbe);
                    trace.Equal(Classify(containsProbe) == Expect.Live, pool.Contains(ResourceHandle.FromRawValue(containsProbe)), "Contains");
                    break;
                case < 950:
                    ulong forged = Forge();
                    trace.Begin(step, "forged", forged);
                    if (random.Next(2) == 0)
                    {
                        Return(forged);
                    }
                    else
                    {
                        TryGetSpan(forged);
                    }

                    break;
                case < 960:
                    int bad = random.Next(2) == 0 ? 0 : pool.BlockSize + 1 + random.Next(8);
                    trace.Begin(step, "TryRent(bad size)", a: bad);
                    trace.Throws<ArgumentOutOfRangeException>(() => pool.TryRent(bad, out _), "TryRent with a byte count out of range");
                    break;
                case < 963 when _nearWrap < MaxNearWrap && _live.Count > 0:
                    ulong moved = _live.RandomKey(random);
                    trace.Begin(step, "SetGenerationForTesting", moved);
                    MoveNearWrap(moved);
                    break;
                default:
                    trace.Begin(step, "Rent");
                    Rent();
                    break;
            }

            CheckStats();
            if (step % FullCheckEvery == FullCheckEvery - 1)
            {
                trace.Begin(step, "full check");
                FullCheck();
            }
        }

        /// <summary>Every live block resolves with its stamp intact and no two overlap; old and foreign handles are refused.</summary>
        public void FullCheck()
        {
            CheckStats();
            var addresses = new List<nint>(_live.Count);
            for (int i = 0; i < _live.Count; i++)
            {
                TryGetSpan(_live.KeyAt(i));
                addresses.Add(_live.ValueAt(i));
            }

            addresses.Sort();
            for (int i = 1; i < addresses.Count; i++)
            {
                trace.True(addresses[i - 1] + pool.BlockSize <= addresses[i], $"blocks at 0x{addresses[i - 1]:x} and 0x{addresses[i]:x} overlap");
            }

            for (int i = 0; i < 128 && _issued.Count > 0; i++)
            {
                ulong probe = _issued[random.Next(_issued.Count)];
                trace.Equal(_live.Contains(probe), pool.Contains(ResourceHandle.FromRawValue(probe)), "Contains (full check)");
                TryGetSpan(probe);
            }

            foreach (ulong raw in foreign)
            {
                trace.Equal(false, pool.Contains(ResourceHandle.FromRawValue(raw)), "Contains(foreign)");
                Return(raw);
                TryGetSpan(raw);
            }
        }

        private static ulong StampOf(ulong raw) => (raw * 0x9E37_79B9_7F4A_7C15UL) ^ 0xA5A5_5A5A_0F0F_F0F0UL;

        private Expect Classify(ulong raw)
        {
            if (raw == 0)
            {
                return Expect.Invalid;
            }

            var handle = ResourceHandle.FromRawValue(raw);
            if (handle.Tag != pool.Tag || handle.Generation <= pool.BaseGeneration)
            {
                return Expect.Foreign;
            }

            return _live.Contains(raw) ? Expect.Live : Expect.Stale;
        }

        private ulong PickProbe()
        {
            int roll = random.Next(100);
            if (roll < 40 && _live.Count > 0)
            {
                return _live.RandomKey(random);
            }

            if (roll < 85 && _issued.Count > 0)
            {
                int count = _issued.Count;
                int index = random.Next(2) == 0 ? Math.Max(0, count - 1 - random.Next(4 * config.MaxCount)) : random.Next(count);
                return _issued[index];
            }

            return roll < 92 ? 0 : foreign[random.Next(foreign.Count)];
        }

        private ulong Forge()
        {
            int tag = random.Next(4) != 0 ? pool.Tag : random.Next(1, HandleLayout.MaxTag + 1);
            int index = random.Next(config.MaxCount + 4);
            uint generation = random.Next(3) switch
            {
                0 => (uint)random.NextInt64(0, 1L << 32),
                1 => pool.BaseGeneration + (uint)random.Next(0, 64),
                _ => pool.BaseGeneration - (uint)Math.Min(pool.BaseGeneration, (uint)random.Next(0, 4)),
            };

            return ((ulong)generation << 32) | ((uint)index << HandleLayout.TagBits) | (uint)tag;
        }

        private void Rent()
        {
            bool exhausted = _live.Count + _retired == config.MaxCount;
            int variant = random.Next(3);
            ResourceHandle handle;
            if (variant == 2)
            {
                if (exhausted)
                {
                    Exhausted++;
                    trace.ThrowsStatus(ResourceStatus.PoolExhausted, () => pool.Rent(), "Rent when exhausted");
                    return;
                }

                handle = pool.Rent();
            }
            else
            {
                ResourceStatus status = variant == 1
                    ? pool.TryRent(1 + random.Next(pool.BlockSize), out handle)
                    : pool.TryRent(out handle);
                trace.Equal(exhausted ? ResourceStatus.PoolExhausted : ResourceStatus.Ok, status, "TryRent status");
                if (exhausted)
                {
                    Exhausted++;
                    trace.Equal(default, handle, "handle after PoolExhausted");
                    return;
                }
            }

            ulong raw = handle.RawValue;
            trace.SetHandle(raw);
            trace.True(_everIssued.Add(raw), "a rented handle is new: never issued before");
            trace.Equal(pool.Tag, handle.Tag, "rented handle's tag");
            trace.Equal(1u, handle.Generation & 1, "rented generation is odd");
            trace.True(handle.Generation > pool.BaseGeneration, "rented generation above the base");
            trace.True((uint)handle.Index < (uint)config.MaxCount, "rented index below MaxCount");
            trace.Equal(ResourceStatus.Ok, pool.TryGetSpan(handle, out Span<byte> span), "TryGetSpan of a rented block");
            trace.Equal(pool.BlockSize, span.Length, "span length");
            nint address;
            unsafe
            {
                fixed (byte* p = span)
                {
                    address = (nint)p;
                }
            }

            trace.Equal(0L, (long)address % pool.Alignment, "block alignment");
            MemoryMarshal.Cast<byte, ulong>(span).Fill(StampOf(raw));
            _live.Add(raw, address);
            _issued.Add(raw);
            _peak = Math.Max(_peak, _live.Count);
            Rents++;
        }

        private void Return(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            switch (Classify(raw))
            {
                case Expect.Foreign:
                    trace.Throws<ArgumentException>(() => pool.Return(handle), "Return(foreign)");
                    return;
                case Expect.Invalid:
                    trace.Equal(ResourceStatus.InvalidHandle, pool.Return(handle), "Return(null)");
                    return;
                case Expect.Stale:
                    StaleProbes++;
                    trace.Equal(ResourceStatus.StaleHandle, pool.Return(handle), "Return(stale)");
                    return;
                default:
                    TryGetSpan(raw); // the stamp must be intact right up to the return
                    trace.Equal(ResourceStatus.Ok, pool.Return(handle), "Return(live)");
                    _live.Remove(raw);
                    if (handle.Generation == uint.MaxValue)
                    {
                        _retired++;
                    }

                    trace.Equal(ResourceStatus.StaleHandle, pool.Return(handle), "second Return");
                    trace.Equal(false, pool.Contains(handle), "Contains after Return");
                    return;
            }
        }

        private void TryGetSpan(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            if (expect == Expect.Foreign)
            {
                trace.Throws<ArgumentException>(() => pool.TryGetSpan(handle, out _), "TryGetSpan(foreign)");
                return;
            }

            ResourceStatus status = pool.TryGetSpan(handle, out Span<byte> span);
            switch (expect)
            {
                case Expect.Invalid:
                    trace.Equal(ResourceStatus.InvalidHandle, status, "TryGetSpan(null)");
                    trace.True(span.IsEmpty, "TryGetSpan(null) gives an empty span");
                    break;
                case Expect.Stale:
                    StaleProbes++;
                    trace.Equal(ResourceStatus.StaleHandle, status, "TryGetSpan(stale)");
                    trace.True(span.IsEmpty, "TryGetSpan(stale) gives an empty span");
                    break;
                default:
                    trace.Equal(ResourceStatus.Ok, status, "TryGetSpan(live)");
                    trace.Equal(pool.BlockSize, span.Length, "span length");
                    unsafe
                    {
                        fixed (byte* p = span)
                        {
                            trace.Equal(_live[raw], (nint)p, "block address");
                        }
                    }

                    int corrupt = MemoryMarshal.Cast<byte, ulong>(span).IndexOfAnyExcept(StampOf(raw));
                    trace.True(corrupt < 0, $"block stamp overwritten at byte {corrupt * 8}");
                    break;
            }
        }

        private void TryResolve(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            if (expect == Expect.Foreign)
            {
                trace.Throws<ArgumentException>(() => pool.TryResolve(handle, out _), "TryResolve(foreign)");
                return;
            }

            ResourceStatus status = pool.TryResolve(handle, out nint address);
            ResourceStatus expected = expect switch
            {
                Expect.Live => ResourceStatus.Ok,
                Expect.Stale => ResourceStatus.StaleHandle,
                _ => ResourceStatus.InvalidHandle,
            };
            trace.Equal(expected, status, "TryResolve status");
            trace.Equal(expect == Expect.Live ? _live[raw] : 0, address, "TryResolve address");
        }

        private void GetSpan(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            switch (Classify(raw))
            {
                case Expect.Foreign:
                    trace.Throws<ArgumentException>(() => pool.GetSpan(handle), "GetSpan(foreign)");
                    break;
                case Expect.Invalid:
                    trace.ThrowsStatus(ResourceStatus.InvalidHandle, () => pool.GetSpan(handle), "GetSpan(null)");
                    break;
                case Expect.Stale:
                    StaleProbes++;
                    trace.ThrowsStatus(ResourceStatus.StaleHandle, () => pool.GetSpan(handle), "GetSpan(stale)");
                    break;
                default:
                    Span<byte> span = pool.GetSpan(handle);
                    trace.Equal(pool.BlockSize, span.Length, "GetSpan length");
                    trace.True(MemoryMarshal.Cast<byte, ulong>(span).IndexOfAnyExcept(StampOf(raw)) < 0, "GetSpan stamp intact");
                    break;
            }
        }

        /// <summary>Moves a rented block close to the generation wrap point, so it is retired during the run.</summary>
        private void MoveNearWrap(ulong raw)
        {
            _nearWrap++;
            uint generation = uint.MaxValue - (2u * (uint)random.Next(3));
            TryGetSpan(raw);
            ResourceHandle moved = pool.SetGenerationForTesting(ResourceHandle.FromRawValue(raw), generation);
            nint address = _live[raw];
            _live.Remove(raw);
            _live.Add(moved.RawValue, address);
            trace.True(_everIssued.Add(moved.RawValue), "moved handle is new");
            _issued.Add(moved.RawValue);
            MemoryMarshal.Cast<byte, ulong>(pool.GetSpan(moved)).Fill(StampOf(moved.RawValue));
            TryGetSpan(raw);
            TryGetSpan(moved.RawValue);
        }

        private void CheckStats()
        {
            PoolStats s = pool.GetStats();
            int bps = pool.BlocksPerSlab;
            trace.Equal(ResourceType.Hardware, s.Type, "Type");
            trace.Equal(config.EffectiveBlockSize, s.BlockSize, "BlockSize");
            trace.Equal(config.EffectiveAlignment, s.Alignment, "Alignment");
            trace.Equal(config.MaxCount, s.CapacityBlocks, "CapacityBlocks");
            trace.Equal(_live.Count, s.UsedBlocks, "UsedBlocks");
            trace.Equal(_retired, s.RetiredBlocks, "RetiredBlocks");
            trace.Equal(s.TotalBlocks, s.FreeBlocks + s.UsedBlocks + s.RetiredBlocks, "Free + Used + Retired == Total");
            trace.True(s.CachedBlocks >= 0 && s.CachedBlocks <= s.FreeBlocks, $"CachedBlocks {s.CachedBlocks} within FreeBlocks {s.FreeBlocks}");
            trace.True(s.CachedBlocks <= _cacheSize, $"CachedBlocks {s.CachedBlocks} within one thread's cache of {_cacheSize}");
            if (_cacheSize == 0)
            {
                trace.Equal(_peak, s.PeakUsedBlocks, "PeakUsedBlocks");
            }
            else
            {
                // Documented: with thread caches the peak counts idle cached blocks too, by at most one cache per thread.
                trace.True(s.PeakUsedBlocks >= _peak && s.PeakUsedBlocks <= _peak + _cacheSize, $"PeakUsedBlocks {s.PeakUsedBlocks}, model peak {_peak} (+{_cacheSize})");
            }

            int initialTotal = Math.Min(config.MaxCount, RoundUp(config.InitialCount, bps));
            int neededTotal = Math.Min(config.MaxCount, RoundUp(Math.Max(config.InitialCount, _peak + _retired + _cacheSize), bps));
            trace.True(s.TotalBlocks >= initialTotal && s.TotalBlocks <= neededTotal, $"TotalBlocks {s.TotalBlocks}: between {initialTotal} and {neededTotal}");
            trace.True(s.TotalBlocks >= s.UsedBlocks + s.RetiredBlocks, "TotalBlocks holds the used and retired blocks");
            trace.Equal(Math.Min(config.MaxCount, s.SlabCount * bps), s.TotalBlocks, "TotalBlocks == whole slabs");
            trace.Equal(((long)config.MaxCount * sizeof(uint)) + ((long)s.TotalBlocks * s.BlockSize), s.NativeBytes, "NativeBytes");
            trace.Equal(allocator.LiveBytes, s.NativeBytes, "NativeBytes == bytes held from the allocator");
            trace.True(s.TotalBlocks >= _previous.TotalBlocks && s.PeakUsedBlocks >= _previous.PeakUsedBlocks, "TotalBlocks and PeakUsedBlocks never shrink");
            _previous = s;
        }

        private static int RoundUp(int value, int unit) => (value + unit - 1) / unit * unit;
    }
}
