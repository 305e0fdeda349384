using System.Runtime.InteropServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Memory;

/// <summary>Seeded random allocate/free/lookup sequences on small <see cref="Arena"/>s, each step checked against a model
/// of the live blocks as (offset, size) pairs. The model predicts every allocation's outcome from the free gaps between
/// live blocks: the arena must succeed whenever some gap can hold the request at its alignment (it fails only when no
/// single free block can), and must otherwise say <see cref="ResourceStatus.Fragmented"/> or
/// <see cref="ResourceStatus.RegionExhausted"/> by the total free bytes. Every block's placement (alignment, bounds,
/// reserved start, no overlap), size and stamp, and every statistic, is checked too.</summary>
public class ArenaModelTests
{
    private const int Steps = 60_000;
    private const int FullCheckEvery = 1024;

    private enum Expect
    {
        Live,
        Stale,
        Invalid,
        Foreign,
    }

    [Theory]
    [InlineData(21, 64 * 1024, 16, 16, 0, 256, false)]       // plain: 16-byte unit
    [InlineData(22, (48 * 1024) + 20, 16, 32, 4000, 40, true)] // sound-RAM style: 32-byte unit, reserved start, ragged tail
    [InlineData(23, 64 * 1024, 8, 8, 0, 64, false)]          // 8-byte unit, allocation bound reached often
    [InlineData(24, 32 * 1024, 64, 16, 640, 128, true)]      // 64-byte unit
    public void RandomOperations_CheckedAgainstModel_MatchAtEveryStep(
        int seed, long size, int minAlignment, int granularity, long reservedStart, int maxAllocations, bool threadSafe)
    {
        // Arrange
        var config = new ArenaConfig
        {
            Size = size,
            MinAlignment = minAlignment,
            Granularity = granularity,
            ReservedStart = reservedStart,
            MaxAllocations = maxAllocations,
            ThreadSafe = threadSafe,
        };
        var trace = new ModelTrace(nameof(ArenaModelTests), seed);
        var random = new Random(seed);
        var allocator = new TrackingAllocator();
        var foreign = new List<ulong>();
        using (var gone = new Arena(new ArenaConfig { Size = 4096 }))
        {
            foreign.Add(gone.Allocate(100).RawValue);
            foreign.Add(gone.Allocate(200).RawValue);
        }

        using var other = new Arena(new ArenaConfig { Size = 4096 });
        foreign.Add(other.Allocate(64).RawValue);
        using var table = new HandleTable<int>(2);
        foreign.Add(table.Allocate(3).RawValue);

        var arena = new Arena(config, allocator);
        var run = new Run(arena, config, trace, random, foreign);
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
            arena.Dispose();
        }
        Assert.Equal(0, allocator.LiveBytes);
        Assert.True(run.Allocations > Steps / 6, $"seed {seed}: only {run.Allocations} allocations");
        Assert.True(run.Fragmented > 20, $"seed {seed}: only {run.Fragmented} Fragmented results");
        Assert.True(run.Exhausted > 20, $"seed {seed}: only {run.Exhausted} RegionExhausted results");
        Assert.True(run.AtCapacity > 0 || maxAllocations > 100, $"seed {seed}: never reached MaxAllocations");
        Assert.True(run.StaleProbes > Steps / 20, $"seed {seed}: only {run.StaleProbes} stale probes");
    }

    private readonly record struct Block(long Offset, long Size, ulong Raw);

    private sealed class Run(Arena arena, ArenaConfig config, ModelTrace trace, Random random, List<ulong> foreign)
    {
        private readonly long _unit = config.Unit;
        private readonly long _start = ArenaConfig.RoundUp(config.ReservedStart, config.Unit);
        private readonly long _end = ArenaConfig.RoundDown(config.Size, config.Unit);
        private readonly ModelMap<Block> _live = new();
        private readonly List<Block> _byOffset = new();    // live blocks sorted by offset
        private readonly List<ulong> _issued = new();
        private readonly HashSet<ulong> _everIssued = new();
        private readonly HashSet<ulong> _foreign = new(foreign);
        private nint _base;
        private int _tag;
        private long _used;
        private long _peak;
        private long _total;
        private long _failed;
        private long _fragmentation;

        public int Allocations { get; private set; }

        public int Fragmented { get; private set; }

        public int Exhausted { get; private set; }

        public int AtCapacity { get; private set; }

        public int StaleProbes { get; private set; }

        public void Step(int step)
        {
            // Phases of 1,024 steps tilt the mix: balanced, filling (the region fragments and runs out), draining.
            int phase = (step >> 10) % 3;
            int roll = random.Next(1000);
            if (phase != 0 && random.Next(3) == 0)
            {
                roll = phase == 1 || _live.Count == 0 ? 0 : 400;
            }

            switch (roll)
            {
                case < 380:
                    long size = NextSize();
                    int alignment = NextAlignment();
                    trace.Begin(step, "Allocate", a: size, b: alignment);
                    Allocate(size, alignment);
                    break;
                case < 600:
                    if (_live.Count == 0)
                    {
                        long first = NextSize();
                        trace.Begin(step, "Allocate", a: first);
                        Allocate(first, 0);
                        break;
                    }

                    ulong victim = _live.RandomKey(random);
                    trace.Begin(step, "Free(live)", victim);
                    Free(victim);
                    break;
                case < 680:
                    ulong freeProbe = PickProbe();
                    trace.Begin(step, "Free(probe)", freeProbe);
                    Free(freeProbe);
                    break;
                case < 790:
                    ulong resolveProbe = PickProbe();
                    trace.Begin(step, "TryResolve", resolveProbe);
                    TryResolve(resolveProbe, withSpan: random.Next(2) == 0);
                    break;
                case < 860:
                    ulong containsProbe = PickProbe();
                    trace.Begin(step, "Contains", containsProbe);
                    trace.Equal(Classify(containsProbe) == Expect.Live, arena.Contains(ResourceHandle.FromRawValue(containsProbe)), "Contains");
                    break;
                case < 920 when _tag != 0:
                    ulong forged = Forge();
                    trace.Begin(step, "forged", forged);
                    if (random.Next(2) == 0)
                    {
                        Free(forged);
                    }
                    else
                    {
                        TryResolve(forged, withSpan: false);
                    }

                    break;
                case < 930:
                    trace.Begin(step, "bad arguments");
                    BadArguments();
                    break;
                default:
                    long other = NextSize();
                    trace.Begin(step, "Allocate", a: other);
                    Allocate(other, 0);
                    break;
            }

            CheckStats();
            if (step % FullCheckEvery == FullCheckEvery - 1)
            {
                trace.Begin(step, "full check");
                FullCheck();
            }
        }

        public void FullCheck()
        {
            CheckStats();
            string? problem = arena.Validate();
            trace.True(problem == null, $"Arena.Validate: {problem}");
            for (int i = 0; i < _live.Count; i++)
            {
                TryResolve(_live.KeyAt(i), withSpan: true);
            }

            for (int i = 1; i < _byOffset.Count; i++)
            {
                trace.True(_byOffset[i - 1].Offset + _byOffset[i - 1].Size <= _byOffset[i].Offset, "model blocks do not overlap");
            }

            for (int i = 0; i < 128 && _issued.Count > 0; i++)
            {
                ulong probe = _issued[random.Next(_issued.Count)];
                trace.Equal(_live.Contains(probe), arena.Contains(ResourceHandle.FromRawValue(probe)), "Contains (full check)");
                TryResolve(probe, withSpan: false);
            }

            foreach (ulong raw in foreign)
            {
                trace.Equal(false, arena.Contains(ResourceHandle.FromRawValue(raw)), "Contains(foreign)");
                Free(raw);
                TryResolve(raw, withSpan: false);
            }
        }

        private static ulong StampOf(ulong raw) => (raw * 0x9E37_79B9_7F4A_7C15UL) ^ 0x0123_4567_89AB_CDEFUL;

        private long NextSize()
        {
            int roll = random.Next(100);
            long range = _end - _start;
            return roll switch
            {
                < 35 => random.Next(1, 65),
                < 65 => random.Next(65, 1025),
                < 85 => random.Next(1025, 4097),
                < 95 => random.Next(4097, 16385),
                < 99 => random.NextInt64(16385, range + 1),
                _ => random.NextInt64(range + 1, range + 5000),
            };
        }

        private int NextAlignment()
        {
            int roll = random.Next(100);
            return roll switch
            {
                < 55 => 0,
                < 98 => 1 << random.Next(0, 13),          // 1 .. 4096
                _ => 1 << random.Next(13, 17),            // 8 KiB .. 64 KiB
            };
        }

        private Expect Classify(ulong raw)
        {
            if (raw == 0)
            {
                return Expect.Invalid;
            }

            if (_foreign.Contains(raw) || ResourceHandle.FromRawValue(raw).Tag != _tag)
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
                int index = random.Next(2) == 0 ? Math.Max(0, count - 1 - random.Next(512)) : random.Next(count);
                return _issued[index];
            }

            return roll < 92 ? 0 : foreign[random.Next(foreign.Count)];
        }

        /// <summary>An issued handle with another slot index or a later generation: this arena's tag and a generation it
        /// has used, so never foreign; the model says whether it happens to be live.</summary>
        private ulong Forge()
        {
            var template = ResourceHandle.FromRawValue(_issued[random.Next(_issued.Count)]);
            uint generation = template.Generation + (2u * (uint)random.Next(0, 3));
            int index = random.Next(config.MaxAllocations + 4) & ((1 << HandleLayout.IndexBits) - 1);
            return ((ulong)generation << 32) | ((uint)index << HandleLayout.TagBits) | (uint)_tag;
        }

        private void BadArguments()
        {
            long badSize = -random.Next(0, 3);
            trace.Throws<ArgumentOutOfRangeException>(() => arena.TryAllocate(badSize, 0, out _), "TryAllocate with a size below 1");
            int badAlignment = random.Next(2) == 0 ? 3 + (2 * random.Next(100)) : ArenaConfig.MaxAlignment * 2;
            trace.Throws<ArgumentException>(() => arena.TryAllocate(16, badAlignment, out _), "TryAllocate with a bad alignment");
        }

        /// <summary>The outcome the model predicts, and the free gap count and largest gap on the way.</summary>
        private ResourceStatus Predict(long size, int alignment)
        {
            if (size > _end - _start)
            {
                return ResourceStatus.RegionExhausted;
            }

            if (_live.Count == config.EffectiveMaxAllocations)
            {
                return ResourceStatus.CapacityExceeded;
            }

            long need = ArenaConfig.RoundUp(size, _unit);
            long align = Math.Max(alignment, _unit);
            long gapStart = _start;
            for (int i = 0; i <= _byOffset.Count; i++)
            {
                long gapEnd = i < _byOffset.Count ? _byOffset[i].Offset : _end;
                if (ArenaConfig.RoundUp(gapStart, align) + need <= gapEnd)
                {
                    return ResourceStatus.Ok;
                }

                if (i < _byOffset.Count)
                {
                    gapStart = _byOffset[i].Offset + _byOffset[i].Size;
                }
            }

            return _end - _start - _used >= need ? ResourceStatus.Fragmented : ResourceStatus.RegionExhausted;
        }

        private void Allocate(long size, int alignment)
        {
            ResourceStatus expected = Predict(size, alignment);
            ResourceHandle handle;
            if (random.Next(4) == 0)
            {
                if (expected != ResourceStatus.Ok)
                {
                    trace.ThrowsStatus(expected, () => arena.Allocate(size, alignment), "Allocate");
                    Refused(expected);
                    return;
                }

                handle = arena.Allocate(size, alignment);
            }
            else
            {
                ResourceStatus status = arena.TryAllocate(size, alignment, out handle);
                trace.Equal(expected, status, "TryAllocate status");
                if (expected != ResourceStatus.Ok)
                {
                    trace.Equal(default, handle, "handle after a refusal");
                    Refused(expected);
                    return;
                }
            }

            ulong raw = handle.RawValue;
            trace.SetHandle(raw);
            trace.True(!handle.IsNull && _everIssued.Add(raw), "an allocation's handle is new");
            trace.Equal(ResourceStatus.Ok, arena.TryResolve(handle, out nint address, out long actualSize), "TryResolve of a new allocation");
            long need = ArenaConfig.RoundUp(size, _unit);
            trace.Equal(need, actualSize, "allocation size (the request rounded up to the unit)");
            if (_base == 0)
            {
                // The region is aligned to ArenaConfig.MaxAlignment and no larger than it here, so its base is the
                // allocation's address rounded down to that alignment.
                _base = address & ~(nint)(ArenaConfig.MaxAlignment - 1);
                _tag = handle.Tag;
            }

            trace.Equal(_tag, handle.Tag, "every handle carries the arena's tag");
            long offset = address - _base;
            long align = Math.Max(alignment, _unit);
            trace.Equal(0L, (long)address % align, "allocation alignment");
            trace.True(offset >= _start, $"offset {offset} is past the reserved start {_start}");
            trace.True(offset + need <= _end, $"block [{offset}, {offset + need}) ends within the region ({_end})");

            int at = InsertionPoint(offset);
            if (at > 0)
            {
                Block before = _byOffset[at - 1];
                trace.True(before.Offset + before.Size <= offset, $"block at {offset} overlaps the one at {before.Offset} (+{before.Size})");
            }

            if (at < _byOffset.Count)
            {
                trace.True(offset + need <= _byOffset[at].Offset, $"block at {offset} (+{need}) overlaps the one at {_byOffset[at].Offset}");
            }

            var block = new Block(offset, need, raw);
            _byOffset.Insert(at, block);
            _live.Add(raw, block);
            _issued.Add(raw);
            _used += need;
            _peak = Math.Max(_peak, _used);
            _total++;
            Allocations++;
            MemoryMarshal.Cast<byte, ulong>(SpanOf(address, need)).Fill(StampOf(raw));
        }

        private void Refused(ResourceStatus status)
        {
            _failed++;
            switch (status)
            {
                case ResourceStatus.Fragmented:
                    _fragmentation++;
                    Fragmented++;
                    break;
                case ResourceStatus.RegionExhausted:
                    Exhausted++;
                    break;
                case ResourceStatus.CapacityExceeded:
                    AtCapacity++;
                    break;
            }
        }

        private int InsertionPoint(long offset)
        {
            int lo = 0;
            int hi = _byOffset.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) >>> 1;
                if (_byOffset[mid].Offset < offset)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            return lo;
        }

        private void Free(ulong raw)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            switch (Classify(raw))
            {
                case Expect.Foreign:
                    trace.Throws<ArgumentException>(() => arena.Free(handle), "Free(foreign)");
                    return;
                case Expect.Invalid:
                    trace.Equal(ResourceStatus.InvalidHandle, arena.Free(handle), "Free(null)");
                    return;
                case Expect.Stale:
                    StaleProbes++;
                    trace.Equal(ResourceStatus.StaleHandle, arena.Free(handle), "Free(stale)");
                    return;
                default:
                    TryResolve(raw, withSpan: true);
                    trace.Equal(ResourceStatus.Ok, arena.Free(handle), "Free(live)");
                    Block block = _live[raw];
                    _live.Remove(raw);
                    int at = InsertionPoint(block.Offset);
                    trace.True(at < _byOffset.Count && _byOffset[at].Raw == raw, "model: freed block is in the offset list");
                    _byOffset.RemoveAt(at);
                    _used -= block.Size;
                    trace.Equal(ResourceStatus.StaleHandle, arena.Free(handle), "second Free");
                    return;
            }
        }

        private void TryResolve(ulong raw, bool withSpan)
        {
            var handle = ResourceHandle.FromRawValue(raw);
            Expect expect = Classify(raw);
            if (expect == Expect.Foreign)
            {
                trace.Throws<ArgumentException>(() => arena.TryResolve(handle, out _, out _), "TryResolve(foreign)");
                return;
            }

            ResourceStatus status = arena.TryResolve(handle, out nint address, out long size);
            if (expect != Expect.Live)
            {
                StaleProbes += expect == Expect.Stale ? 1 : 0;
                trace.Equal(expect == Expect.Stale ? ResourceStatus.StaleHandle : ResourceStatus.InvalidHandle, status, "TryResolve status");
                trace.True(address == 0 && size == 0, "TryResolve of a dead handle gives no address and no size");
                trace.Equal(status, arena.TryGetSpan(handle, out Span<byte> none), "TryGetSpan status");
                trace.True(none.IsEmpty, "TryGetSpan of a dead handle is empty");
                return;
            }

            Block block = _live[raw];
            trace.Equal(ResourceStatus.Ok, status, "TryResolve(live)");
            trace.Equal(_base + (nint)block.Offset, address, "TryResolve address");
            trace.Equal(block.Size, size, "TryResolve size");
            if (withSpan)
            {
                trace.Equal(ResourceStatus.Ok, arena.TryGetSpan(handle, out Span<byte> span), "TryGetSpan(live)");
                trace.Equal((int)block.Size, span.Length, "TryGetSpan length");
                int corrupt = MemoryMarshal.Cast<byte, ulong>(span).IndexOfAnyExcept(StampOf(raw));
                trace.True(corrupt < 0, $"allocation stamp overwritten at byte {corrupt * 8}");
            }
        }

        private void CheckStats()
        {
            ArenaStats s = arena.GetStats();
            long largest = 0;
            int gaps = 0;
            long gapStart = _start;
            for (int i = 0; i <= _byOffset.Count; i++)
            {
                long gapEnd = i < _byOffset.Count ? _byOffset[i].Offset : _end;
                if (gapEnd > gapStart)
                {
                    gaps++;
                    largest = Math.Max(largest, gapEnd - gapStart);
                }

                if (i < _byOffset.Count)
                {
                    gapStart = _byOffset[i].Offset + _byOffset[i].Size;
                }
            }

            trace.Equal(config.Size, s.Capacity, "Capacity");
            trace.Equal(config.Size - (_end - _start), s.ReservedBytes, "ReservedBytes");
            trace.Equal(_used, s.UsedBytes, "UsedBytes");
            trace.Equal(_end - _start - _used, s.FreeBytes, "FreeBytes");
            trace.Equal(s.Capacity, s.ReservedBytes + s.UsedBytes + s.FreeBytes, "Reserved + Used + Free == Capacity");
            trace.Equal(_peak, s.PeakUsedBytes, "PeakUsedBytes");
            trace.Equal(largest, s.LargestFreeBlock, "LargestFreeBlock");
            trace.Equal(_live.Count, s.AllocationCount, "AllocationCount");
            trace.Equal(gaps, s.FreeBlockCount, "FreeBlockCount");
            trace.Equal(_total, s.TotalAllocations, "TotalAllocations");
            trace.Equal(_failed, s.FailedAllocations, "FailedAllocations");
            trace.Equal(_fragmentation, s.FragmentationFailures, "FragmentationFailures");
        }

        private static unsafe Span<byte> SpanOf(nint address, long size) => new((void*)address, (int)size);
    }
}
