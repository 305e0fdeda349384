namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>A handle table as a running game leaves it: <c>live</c> entries scattered over twice as many slots, with
/// varied generations. Built by filling every slot, then <see cref="Rounds"/> rounds of freeing a random half of the live
/// entries and allocating as many again (the table reuses the most recently freed slot first, so every round reissues a
/// random half of the slots at their next generation), then freeing a random half for good. A live slot has then been
/// reissued 0 to <see cref="Rounds"/> times (binomially, most often 4), each reissue a new generation; the bare
/// generational array and the dictionary are built from the same indices and generations (<see cref="LookupPeers"/>).</summary>
public sealed class ChurnedTable : IDisposable
{
    /// <summary>Free-and-reallocate rounds.</summary>
    public const int Rounds = 8;

    public ChurnedTable(int live, int seed, bool compact = false)
    {
        var random = new Random(seed);
        int slots = live * 2;
        Table = new HandleTable<long>(slots, allocator: null, compact);
        var handles = new List<Handle<long>>(slots);
        for (int i = 0; i < slots; i++)
        {
            handles.Add(Table.Allocate(i));
        }

        for (int round = 0; round < Rounds; round++)
        {
            Shuffle(handles, random);
            int freed = handles.Count / 2;
            for (int i = 0; i < freed; i++)
            {
                Table.Free(handles[i]);
            }

            for (int i = 0; i < freed; i++)
            {
                handles[i] = Table.Allocate(i);
            }
        }

        Shuffle(handles, random);
        for (int i = live; i < handles.Count; i++)
        {
            Table.Free(handles[i]);
        }

        handles.RemoveRange(live, handles.Count - live);
        Shuffle(handles, random);
        for (int i = 0; i < handles.Count; i++)
        {
            Table.Get(handles[i]) = handles[i].Index; // the value a lookup sums
        }

        Live = [.. handles];
        LiveCompact = compact ? [.. handles.Select(Table.ToCompact)] : [];
        Check.That(Table.Count == live, $"{live} live entries");
        int distinct = Live.Select(h => h.Generation).Distinct().Count();
        Check.That(live < 1000 || distinct >= Rounds / 2, $"varied generations (found {distinct} distinct)");
    }

    /// <summary>The live entries' compact handles, in the same order, when the table is compact; else empty.</summary>
    public CompactHandle<long>[] LiveCompact { get; }

    /// <summary>The table.</summary>
    public HandleTable<long> Table { get; }

    /// <summary>Its live handles, in random order; each entry's value is its slot index.</summary>
    public Handle<long>[] Live { get; }

    /// <summary>Slots (live and free) the table spans.</summary>
    public int Slots => Table.Capacity;

    public void Dispose() => Table.Dispose();

    private static void Shuffle(List<Handle<long>> list, Random random)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
