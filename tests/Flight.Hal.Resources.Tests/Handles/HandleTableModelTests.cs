using System.Runtime.CompilerServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Handles;

/// <summary>Seeded random operations on a small <see cref="HandleTable{T}"/>, each checked against a dictionary model:
/// status codes, values, counts, enumeration, and that no handle ever issued resolves once freed — even after its slot
/// has been reused many times or its generation has wrapped.</summary>
public class HandleTableModelTests
{
    private const int Capacity = 64;          // Small, so every slot is reused thousands of times.
    private const int Steps = 150_000;
    private const int FullCheckEvery = 1024;
    private const int MaxNearWrap = 4;        // Slots moved next to the generation wrap point per run.

    private enum Expect
    {
        Live,
        Stale,
        Invalid,  // The null handle.
        Foreign,  // Another table's (live or disposed), or a forged value with a disposed issuer's generation.
    }

    [Theory]
    [InlineData(1)]
    [InlineData(20_240_607)]
    [InlineData(987_654_321)]
    public void RandomOperations_CheckedAgainstModel_MatchAtEveryStep(int seed)
    {
        // Arrange
        var trace = new ModelTrace(nameof(HandleTableModelTests), seed);
        var random = new Random(seed);
        var foreign = new List<ulong>();
        using (var gone = new HandleTable<Payload>(4))
        {
            foreign.Add(gone.Allocate(new Payload(1, 1)).RawValue);
            foreign.Add(gone.Allocate(new Payload(2, 2)).RawValue);
        }

        using var table = new HandleTable<Payload>(Capacity);
        using var other = new HandleTable<Payload>(8);
        for (int i = 0; i < 4; i++)
        {
            foreign.Add(other.Allocate(new Payload(-i, i)).RawValue);
        }

        var run = new Run(table, trace, random, foreign);

        // Act and Assert: every step is checked as it runs.
        for (int step = 0; step < Steps; step++)
        {
            run.Step(step);
        }

        trace.Begin(Steps, "final");
        run.FullCheck();
        Assert.True(run.Allocations > Steps / 4, $"seed {seed}: only {run.Allocations} allocations");
        Assert.True(run.StaleProbes > Steps / 10, $"seed {seed}: only {run.StaleProbes} stale probes");
        Assert.True(run.Refusals > 100, $"seed {seed}: the table was full only {run.Refusals} times");
        Assert.True(run.Retired > 0, $"seed {seed}: no slot reached the generation wrap point");
    }

    /// <summary>The entry type: two fields, so a torn or misplaced write shows.</summary>
    private readonly record struct Payload(long A, long B);

    /// <summary>One seeded run: the table, its model, and the operations.</summary>
    private sealed class Run(HandleTable<Payload> table, ModelTrace trace, Random random, List<ulong> foreign)
    {
        private readonly ModelMap<Payload> _live = new();
        private readonly List<ulong> _issued = new();          // Every handle ever issued, in order.
        private readonly HashSet<ulong> _everIssued = new();
        private int _retired;
        private int _nearWrap;

        public int Allocations { get; private set; }

        public int StaleProbes { get; private set; }

        public int Refusals { get; private set; }

        public int Retired => _retired;

        public void Step(int step)
        {
            // Phases of 4,096 steps tilt the mix: balanced, filling (the table runs full), draining (nearly empty).
            int phase = (step >> 12) % 3;
            int roll = random.Next(1000);
            if (phase != 0 && random.Next(5) == 0)
            {
                roll = phase == 1 || _live.Count == 0 ? 0 : 300;
            }

            switch (roll)
            {
                case < 300:
                    trace.Begin(step, "Allocate");
                    Allocate();
                    break;
                case < 520:
                    if (_live.Count == 0)
                    {
                        trace.Begin(step, "Allocate");
                        Allocate();
                        break;
                    }

                    ulong victim = _live.RandomKey(random);
                    trace.Begin(step, "Free(live)", victim);
                    Free(victim);
                    break;
                case < 600:
                    ulong freeProbe = PickProbe();
                    trace.Begin(step, "Free(probe)", freeProbe);
                    Free(freeProbe);
                    break;
                case < 700:
                    ulong getProbe = PickProbe();
                    trace.Begin(step, "TryGet", getProbe);
                    TryGet(getProbe);
                    break;
                case < 770:
                    ulong refProbe = PickProbe();
                    trace.Begin(step, "Get", refProbe);
                    Get(refProbe);
                    break;
                case < 840:
                    ulong nullRefProbe = PickProbe();
                    trace.Begin(step, "GetValueRefOrNullRef", nullRefProbe);
                    GetValueRefOrNullRef(nullRefProbe);
                    break;
                case < 900:
                    ulong containsProbe = PickProbe();
                    trace.Begin(step, "Contains", containsProbe);
                    trace.Equal(Classify(containsProbe) == Expect.Live, table.Contains(Handle<Payload>.FromRawValue(containsProbe)), "Contains");
                    break;
                case < 940:
                    ulong forged = Forge();
                    trace.Begin(step, "forged", forged);
                    Forged(forged);
                    break;
                case < 985:
                    trace.Begin(step, "Enumerate", a: _live.Count);
                    Enumerate(freeSome: random.Next(3) == 0);
                    break;
                case < 988:
                    trace.Begin(step, "Clear", a: _live.Count);
                    Clear();
                    break;
                case < 990 when _nearWrap < MaxNearWrap && _live.Count > 0:
                    ulong moved = _live.RandomKey(random);
                    trace.Begin(step, "SetGenerationForTesting", moved);
                    MoveNearWrap(moved);
                    break;
                default:
                    trace.Begin(step, "Allocate");
                    Allocate();
                    break;
            }

            trace.Equal(_live.Count, table.Count, "Count");
            trace.Equal(_retired, table.RetiredCount, "RetiredCount");
            if (step % FullCheckEvery == FullCheckEvery - 1)
            {
                trace.Begin(step, "full check");
                FullCheck();
            }
        }

        /// <summary>Everything the model knows, compared at once: enumeration, every live value, stale and foreign probes.</summary>
        public void FullCheck()
        {
            Enumerate(freeSome: false);
            for (int i = 0; i < _live.Count; i++)
            {
                TryGet(_live.KeyAt(i));
            }

            for (int i = 0; i < 256 && _issued.Count > 0; i++)
            {
                ulong probe = _issued[random.Next(_issued.Count)];
                trace.Equal(_live.Contains(probe), table.Contains(Handle<Payload>.FromRawValue(probe)), "Contains (full check)");
                TryGet(probe);
            }

            foreach (ulong raw in foreign)
            {
                trace.Equal(false, table.Contains(Handle<Payload>.FromRawValue(raw)), "Contains(foreign)");
                TryGet(raw);
            }
        }

        private Expect Classify(ulong raw)
        {
            if (raw == 0)
            {
                return Expect.Invalid;
            }

            var handle = Handle<Payload>.FromRawValue(raw);
            if (handle.Tag != table.Tag || handle.Generation <= table.BaseGeneration)
            {
                return Expect.Foreign;
            }

            return _live.Contains(raw) ? Expect.Live : Expect.Stale;
        }

        /// <summary>A handle to probe with: live, old (mostly stale), null or foreign.</summary>
        private ulong PickProbe()
        {
            int roll = random.Next(100);
            if (roll < 40 && _live.Count > 0)
            {
                return _live.RandomKey(random);
            }

            if (roll < 85 && _issued.Count > 0)
            {
                // Recent handles most of the time (their slots were just reused), any old one otherwise.
                int count = _issued.Count;
                int index = random.Next(2) == 0 ? Math.Max(0, count - 1 - random.Next(4 * Capacity)) : random.Next(count);
                return _issued[index];
            }

            if (roll < 92)
            {
                return 0;
            }

            return foreign[random.Next(foreign.Count)];
        }

        /// <summary>A raw value nobody issued (it may still collide with a live one: the model classifies it).</summary>
        private ulong Forge()
        {
            int tag = random.Next(4) != 0 ? table.Tag : random.Next(1, HandleLayout.MaxTag + 1);
            int index = random.Next(Capacity + 4);
            uint generation = random.Next(3) switch
            {
                0 => (uint)random.NextInt64(0, 1L << 32),
                1 => table.BaseGeneration + (uint)random.Next(0, 64),        // near the slots' current generations
                _ => table.BaseGeneration - (uint)Math.Min(table.BaseGeneration, (uint)random.Next(0, 4)),
            };

            return ((ulong)generation << 32) | ((uint)index << HandleLayout.TagBits) | (uint)tag;
        }

        private void Forged(ulong raw)
        {
            switch (random.Next(4))
            {
                case 0:
                    Free(raw);
                    break;
                case 1:
                    TryGet(raw);
                    break;
                case 2:
                    GetValueRefOrNullRef(raw);
                    break;
                default:
                    trace.Equal(Classify(raw) == Expect.Live, table.Contains(Handle<Payload>.FromRawValue(raw)), "Contains(forged)");
                    break;
            }
        }

        private void Allocate()
        {
            var value = new Payload(random.NextInt64(), random.NextInt64());
            bool full = _live.Count + _retired == Capacity;
            int variant = random.Next(3);
            Handle<Payload> handle;
            if (variant == 2)
            {
                if (full)
                {
                    Refusals++;
                    trace.ThrowsStatus(ResourceStatus.CapacityExceeded, () => table.Allocate(value), "Allocate when full");
                    return;
                }

                handle = table.Allocate(value);
            }
            else
            {
                if (variant == 1)
                {
                    value = default;
                }

                ResourceStatus status = variant == 1 ? table.TryAllocate(out handle) : table.TryAllocate(value, out handle);
                trace.Equal(full ? ResourceStatus.CapacityExceeded : ResourceStatus.Ok, status, "TryAllocate status");
                if (full)
                {
                    Refusals++;
                    trace.Equal(default, handle, "handle after CapacityExceeded");
                    return;
                }
            }

            ulong raw = handle.RawValue;
            trace.SetHandle(raw);
            trace.True(!handle.IsNull, "an issued handle is not null");
            trace.True(_everIssued.Add(raw), "an issued handle is new: never issued before");
            trace.Equal(table.Tag, handle.Tag, "issued handle's tag");
            trace.Equal(1u, handle.Generation & 1, "issued generation is odd");
            trace.True((uint)handle.Index < Capacity, "issued index below capacity");
            trace.True(handle.Generation > table.BaseGeneration, "issued generation above the base");
            _live.Add(raw, value);
            _issued.Add(raw);
            Allocations++;
            TryGet(raw);
        }

        private void Free(ulong raw)
        {
            var handle = Handle<Payload>.FromRawValue(raw);
            switch (Classify(raw))
            {
                case Expect.Foreign:
                    trace.Throws<ArgumentException>(() => table.Free(handle), "Free(foreign)");
                    return;
                case Expect.Invalid:
                    trace.Equal(ResourceStatus.InvalidHandle, table.Free(handle), "Free(null)");
                    return;
                case Expect.Stale:
                    StaleProbes++;
                    trace.Equal(ResourceStatus.StaleHandle, table.Free(handle), "Free(stale)");
                    return;
                default:
                    trace.Equal(ResourceStatus.Ok, table.Free(handle), "Free(live)");
                    Freed(raw);
                    trace.Equal(ResourceStatus.StaleHandle, table.Free(handle), "second Free");
                    trace.Equal(false, table.Contains(handle), "Contains after Free");
                    return;
            }
        }

        /// <summary>The model's side of a successful free: a slot freed at the last generation is retired.</summary>
        private void Freed(ulong raw)
        {
            _live.Remove(raw);
            if (Handle<Payload>.FromRawValue(raw).Generation == uint.MaxValue)
            {
                _retired++;
            }
        }

        private void TryGet(ulong raw)
        {
            var handle = Handle<Payload>.FromRawValue(raw);
            Expect expect = Classify(raw);
            if (expect == Expect.Foreign)
            {
                trace.Throws<ArgumentException>(() => table.TryGet(handle, out _), "TryGet(foreign)");
                return;
            }

            ResourceStatus status = table.TryGet(handle, out Payload value);
            switch (expect)
            {
                case Expect.Invalid:
                    trace.Equal(ResourceStatus.InvalidHandle, status, "TryGet(null)");
                    trace.Equal(default, value, "TryGet(null) value");
                    break;
                case Expect.Stale:
                    StaleProbes++;
                    trace.Equal(ResourceStatus.StaleHandle, status, "TryGet(stale)");
                    trace.Equal(default, value, "TryGet(stale) value");
                    break;
                default:
                    trace.Equal(ResourceStatus.Ok, status, "TryGet(live)");
                    trace.Equal(_live[raw], value, "TryGet(live) value");
                    break;
            }
        }

        private void Get(ulong raw)
        {
            var handle = Handle<Payload>.FromRawValue(raw);
            switch (Classify(raw))
            {
                case Expect.Foreign:
                    trace.Throws<ArgumentException>(() => table.Get(handle), "Get(foreign)");
                    return;
                case Expect.Invalid:
                    trace.ThrowsStatus(ResourceStatus.InvalidHandle, () => table.Get(handle), "Get(null)");
                    return;
                case Expect.Stale:
                    StaleProbes++;
                    trace.ThrowsStatus(ResourceStatus.StaleHandle, () => table.Get(handle), "Get(stale)");
                    return;
                default:
                    ref Payload entry = ref table.Get(handle);
                    trace.Equal(_live[raw], entry, "Get value");
                    entry = new Payload(entry.A + 1, random.NextInt64());   // write through the reference
                    _live[raw] = entry;
                    TryGet(raw);                                             // and read it back
                    return;
            }
        }

        private void GetValueRefOrNullRef(ulong raw)
        {
            var handle = Handle<Payload>.FromRawValue(raw);
            Expect expect = Classify(raw);
            if (expect == Expect.Foreign)
            {
                trace.Throws<ArgumentException>(() => table.GetValueRefOrNullRef(handle), "GetValueRefOrNullRef(foreign)");
                return;
            }

            ref Payload entry = ref table.GetValueRefOrNullRef(handle);
            if (expect != Expect.Live)
            {
                StaleProbes += expect == Expect.Stale ? 1 : 0;
                trace.True(Unsafe.IsNullRef(ref entry), "GetValueRefOrNullRef of a stale or null handle is a null reference");
                return;
            }

            trace.True(!Unsafe.IsNullRef(ref entry), "GetValueRefOrNullRef(live) is not null");
            trace.Equal(_live[raw], entry, "GetValueRefOrNullRef value");
            entry = new Payload(random.NextInt64(), entry.B - 1);
            _live[raw] = entry;
            TryGet(raw);
        }

        /// <summary>Enumerates and compares with the model (values included), in slot order; optionally writes through
        /// the entries and frees some of them on the way, which the table allows.</summary>
        private void Enumerate(bool freeSome)
        {
            int expected = _live.Count;
            int visited = 0;
            int lastIndex = -1;
            var seen = new HashSet<ulong>();
            foreach (HandleTable<Payload>.Entry entry in table)
            {
                ulong raw = entry.Handle.RawValue;
                trace.True(_live.TryGetValue(raw, out Payload value), $"enumerated handle 0x{raw:x} is live in the model");
                trace.True(seen.Add(raw), "enumeration visits each entry once");
                trace.True(entry.Handle.Index > lastIndex, "enumeration is in slot order");
                trace.Equal(value, entry.Value, "enumerated value");
                lastIndex = entry.Handle.Index;
                visited++;
                if (freeSome && random.Next(4) == 0)
                {
                    entry.Value = new Payload(value.A ^ 0x5555, value.B);
                    _live[raw] = entry.Value;
                }

                if (freeSome && random.Next(3) == 0)
                {
                    trace.Equal(ResourceStatus.Ok, table.Free(entry.Handle), "Free of the current entry during enumeration");
                    Freed(raw);
                }
            }

            trace.Equal(expected, visited, "entries enumerated");
        }

        private void Clear()
        {
            table.Clear();
            for (int i = 0; i < _live.Count; i++)
            {
                if (Handle<Payload>.FromRawValue(_live.KeyAt(i)).Generation == uint.MaxValue)
                {
                    _retired++;
                }
            }

            _live.Clear();
            Enumerate(freeSome: false);
        }

        /// <summary>Moves a live slot close to the generation wrap point, so it wraps (and retires) during the run.</summary>
        private void MoveNearWrap(ulong raw)
        {
            _nearWrap++;
            uint generation = uint.MaxValue - (2u * (uint)random.Next(3));   // odd: MaxValue, MaxValue - 2 or - 4
            Handle<Payload> moved = table.SetGenerationForTesting(Handle<Payload>.FromRawValue(raw), generation);
            Payload value = _live[raw];
            _live.Remove(raw);                  // the old handle is now stale
            _live.Add(moved.RawValue, value);
            trace.True(_everIssued.Add(moved.RawValue), "moved handle is new");
            _issued.Add(moved.RawValue);
            TryGet(raw);
            TryGet(moved.RawValue);
        }
    }
}
