namespace Flight.Hal.Resources;

/// <summary>The memory-safety mode's state (<see cref="MemorySafetyOptions"/>): the guards of every live resource, the
/// released memory still watched, and the host-heap quarantine. Every member takes one lock: a debugging aid, not a
/// hot path.</summary>
/// <remarks>
/// Layout of a guarded resource: <c>[guard][size bytes][guard]</c>, the guard <see cref="GuardFor"/> bytes wide; the
/// resource's address is the block's plus the guard. Released memory is watched in three ways, by where it lives:
/// <list type="bullet">
/// <item>arena regions: the released range, by address, until any allocation (a resource's, or a pool slab's) overlaps
/// it, when it is checked and dropped; the arena keeps its bookkeeping outside the region, so nothing else writes there;</item>
/// <item>pool blocks: by block, until the manager rents that block again (checked if nobody rented it in between, as
/// the generation tells); the pool's free list uses the block's first 16 bytes, which are the front guard and are not
/// checked;</item>
/// <item>host-heap regions: the block stays allocated in a FIFO quarantine of at most
/// <see cref="MemorySafetyOptions.QuarantineBytes"/>, checked when it leaves (and is freed).</item>
/// </list>
/// </remarks>
internal sealed unsafe class MemorySafety
{
    /// <summary>Bytes at a free pool block's start that the pool's free list writes.</summary>
    internal const int PoolLinkBytes = 16;

    private const int Chunk = 1 << 30;

    private readonly MemorySafetyOptions _options;
    private readonly object _lock = new();
    private readonly Dictionary<(byte Placement, ulong Memory), Guarded> _live = [];
    private readonly List<Released> _ranges = [];                  // arena memory, sorted by address, never overlapping
    private readonly Dictionary<ulong, (uint NextGeneration, Released Block)> _poolBlocks = []; // by (tag, index)
    private readonly Queue<(Released Block, int Region, ulong Memory)> _quarantine = new();
    private long _quarantined;
    private long _findings;

    public MemorySafety(MemorySafetyOptions options) => _options = options;

    public MemorySafetyOptions Options => _options;

    /// <summary>Findings reported since creation.</summary>
    public long Findings => Interlocked.Read(ref _findings);

    /// <summary>The guard width for a resource of <paramref name="alignment"/>: the resource stays aligned.</summary>
    public int GuardFor(int alignment) => Math.Max(_options.GuardBytes, alignment);

    /// <summary>Bytes to allocate for a guarded resource.</summary>
    public long PaddedSize(long size, int alignment) => size + (2L * GuardFor(alignment));

    /// <summary>The offset of a live guarded resource's first byte within its block (0 when the memory is not guarded:
    /// it was never issued, or is being released).</summary>
    public int OffsetOf(byte placement, ulong memory)
    {
        lock (_lock)
        {
            return _live.TryGetValue((placement, memory), out Guarded g) ? g.Guard : 0;
        }
    }

    /// <summary>A freshly rented pool block about to hold a resource: checks it if it still holds what the manager
    /// released there (nobody rented it in between).</summary>
    public void OnPoolBlockRented(ulong key, uint generation, nint block, List<CorruptionFinding> findings)
    {
        lock (_lock)
        {
            if (_poolBlocks.Remove(key, out (uint NextGeneration, Released Block) watched) && watched.NextGeneration == generation)
            {
                Check(watched.Block, block + PoolLinkBytes, watched.Block.Length - PoolLinkBytes, PoolLinkBytes, findings);
            }
        }
    }

    /// <summary>Memory handed out in an arena region (a resource's block, or a pool's slab): released ranges it overlaps
    /// are checked and no longer watched.</summary>
    public void OnArenaAllocated(nint start, long length, List<CorruptionFinding> findings)
    {
        lock (_lock)
        {
            int i = FirstRangeEndingAfter(start);
            while (i < _ranges.Count && _ranges[i].Start < start + length)
            {
                Released range = _ranges[i];
                Check(range, range.Start, range.Length, 0, findings);
                _ranges.RemoveAt(i);
            }
        }
    }

    /// <summary>Defragmentation is about to move a block from <paramref name="from"/> to <paramref name="to"/>: released
    /// memory the move overwrites is checked and no longer watched, and the guarded resource there follows its block.</summary>
    public void OnMoved(nint from, nint to, long size, List<CorruptionFinding> findings)
    {
        OnArenaAllocated(to, size, findings);
        lock (_lock)
        {
            (byte Placement, ulong Memory)? moved = null;
            foreach (KeyValuePair<(byte Placement, ulong Memory), Guarded> pair in _live)
            {
                if (pair.Value.Block == from)
                {
                    moved = pair.Key;
                    break;
                }
            }

            if (moved is { } key)
            {
                _live[key] = _live[key] with { Block = to };
            }
        }
    }

    /// <summary>A resource's block, registered: fills its guards and its bytes, and watches it.</summary>
    public void Guard(byte placement, ulong memory, nint block, in ResourceMetadata md, Identity identity)
    {
        int guard = GuardFor(md.Alignment);
        Fill(block, guard, _options.GuardFill);
        Fill(block + guard, md.Size, _options.AcquireFill);
        Fill(block + guard + (nint)md.Size, guard, _options.GuardFill);
        lock (_lock)
        {
            _live[(placement, memory)] = new Guarded(block, guard, md.Size, identity);
        }
    }

    /// <summary>A guarded resource's last release: checks its guards, fills the whole block with the release pattern and
    /// watches it (see the remarks). False when the memory was never guarded.</summary>
    /// <param name="placement">Its placement.</param>
    /// <param name="memory">Its memory token.</param>
    /// <param name="where">Pool (the block's key and its next generation), arena, or host heap (region index).</param>
    /// <param name="findings">Damage found is added here.</param>
    /// <param name="padded">The block's guarded size.</param>
    /// <param name="evicted">Host-heap blocks leaving the quarantine, for the caller to free now (checked already).</param>
    public bool Release(
        byte placement, ulong memory, in ReleasedAt where, List<CorruptionFinding> findings, out long padded,
        List<(int Region, ulong Memory, long Padded)>? evicted)
    {
        lock (_lock)
        {
            if (!_live.Remove((placement, memory), out Guarded g))
            {
                padded = 0;
                return false;
            }

            CheckGuards(in g, findings);
            padded = g.Size + (2L * g.Guard);
            Fill(g.Block, padded, _options.ReleaseFill);
            var released = new Released(g.Block, padded, g.Guard, g.Size, g.Identity);
            switch (where.Kind)
            {
                case ReleasedAt.Pool:
                    _poolBlocks[where.Key] = (where.NextGeneration, released);
                    break;
                case ReleasedAt.Arena:
                    _ranges.Insert(FirstRangeEndingAfter(g.Block), released);
                    break;
                default:
                    _quarantine.Enqueue((released, where.Region, memory));
                    _quarantined += padded;
                    while (_quarantined > _options.QuarantineBytes && _quarantine.TryDequeue(out (Released Block, int Region, ulong Memory) leaving))
                    {
                        Check(leaving.Block, leaving.Block.Start, leaving.Block.Length, 0, findings);
                        _quarantined -= leaving.Block.Length;
                        evicted!.Add((leaving.Region, leaving.Memory, leaving.Block.Length));
                    }

                    break;
            }

            return true;
        }
    }

    /// <summary>Checks everything watched: every live resource's guards, and all released memory still watched
    /// (pool blocks only while still free since: <paramref name="stillFree"/> says).</summary>
    public void CheckAll(List<CorruptionFinding> findings, Func<ulong, uint, bool> stillFree)
    {
        lock (_lock)
        {
            foreach (Guarded g in _live.Values)
            {
                CheckGuards(in g, findings);
            }

            foreach (Released range in _ranges)
            {
                Check(range, range.Start, range.Length, 0, findings);
            }

            foreach ((Released block, _, _) in _quarantine)
            {
                Check(block, block.Start, block.Length, 0, findings);
            }

            List<ulong>? stale = null;
            foreach (KeyValuePair<ulong, (uint NextGeneration, Released Block)> pair in _poolBlocks)
            {
                if (stillFree(pair.Key, pair.Value.NextGeneration - 1))
                {
                    Released block = pair.Value.Block;
                    Check(block, block.Start + PoolLinkBytes, block.Length - PoolLinkBytes, PoolLinkBytes, findings);
                }
                else
                {
                    (stale ??= []).Add(pair.Key); // rented around the manager since: its content is someone else's now
                }
            }

            foreach (ulong key in stale ?? [])
            {
                _poolBlocks.Remove(key);
            }
        }
    }

    /// <summary>Forgets everything (the manager is disposing its memory).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _live.Clear();
            _ranges.Clear();
            _poolBlocks.Clear();
            _quarantine.Clear();
            _quarantined = 0;
        }
    }

    /// <summary>Counts findings (the caller reports them).</summary>
    public void Count(int findings) => Interlocked.Add(ref _findings, findings);

    private void CheckGuards(in Guarded g, List<CorruptionFinding> findings)
    {
        byte fill = _options.GuardFill;
        var front = new ReadOnlySpan<byte>((void*)g.Block, g.Guard);
        int first = front.IndexOfAnyExcept(fill);
        if (first >= 0)
        {
            findings.Add(g.Identity.Finding(CorruptionKind.Underrun, g.Size, first - g.Guard, g.Guard - front.Count(fill)));
        }

        var back = new ReadOnlySpan<byte>((void*)(g.Block + g.Guard + (nint)g.Size), g.Guard);
        first = back.IndexOfAnyExcept(fill);
        if (first >= 0)
        {
            findings.Add(g.Identity.Finding(CorruptionKind.Overrun, g.Size, g.Size + first, g.Guard - back.Count(fill)));
        }
    }

    /// <summary>Checks <paramref name="length"/> bytes from <paramref name="from"/> of a released block still read the
    /// release pattern; <paramref name="skipped"/> bytes at the block's start were not looked at.</summary>
    private void Check(in Released block, nint from, long length, int skipped, List<CorruptionFinding> findings)
    {
        byte fill = _options.ReleaseFill;
        long firstDamaged = -1;
        long damaged = 0;
        for (long done = 0; done < length; done += Chunk)
        {
            var span = new ReadOnlySpan<byte>((void*)(from + (nint)done), (int)Math.Min(Chunk, length - done));
            int first = span.IndexOfAnyExcept(fill);
            if (first >= 0)
            {
                firstDamaged = firstDamaged < 0 ? done + first : firstDamaged;
                damaged += span.Length - span.Count(fill);
            }
        }

        if (firstDamaged >= 0)
        {
            findings.Add(block.Identity.Finding(CorruptionKind.WriteAfterRelease, block.Size, skipped + firstDamaged - block.Guard, damaged));
        }
    }

    /// <summary>The index of the first watched range that ends after <paramref name="address"/> (ranges are sorted and
    /// disjoint, so their ends are sorted too).</summary>
    private int FirstRangeEndingAfter(nint address)
    {
        int low = 0;
        int high = _ranges.Count;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (_ranges[mid].Start + (nint)_ranges[mid].Length <= address)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    private static void Fill(nint start, long length, byte value)
    {
        for (long done = 0; done < length; done += Chunk)
        {
            new Span<byte>((void*)(start + (nint)done), (int)Math.Min(Chunk, length - done)).Fill(value);
        }
    }

    /// <summary>Who a guarded block belongs to, for the findings.</summary>
    internal sealed record Identity(ResourceHandle Handle, string? Name, string Owner, ResourceType Type, string Placement)
    {
        public CorruptionFinding Finding(CorruptionKind kind, long size, long offset, long damaged) =>
            new(kind, Handle, Name, Owner, Type, size, offset, damaged, Placement);
    }

    /// <summary>Where released memory goes.</summary>
    internal readonly record struct ReleasedAt(int Kind, ulong Key, uint NextGeneration, int Region)
    {
        public const int Pool = 0;
        public const int Arena = 1;
        public const int HostHeap = 2;
    }

    private readonly record struct Guarded(nint Block, int Guard, long Size, Identity Identity);

    private readonly record struct Released(nint Start, long Length, int Guard, long Size, Identity Identity);
}
