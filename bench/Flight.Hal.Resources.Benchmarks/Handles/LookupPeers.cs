namespace Flight.Hal.Resources.Benchmarks.Handles;

/// <summary>The lookup suites' peers, built from a <see cref="ChurnedTable"/> so every structure holds the same live
/// entries (same indices, same generations, same values) and is visited in the same random order.</summary>
internal sealed class LookupPeers
{
    public LookupPeers(ChurnedTable churned)
    {
        Handle<long>[] live = churned.Live;
        Bare = new BareEntry[churned.Slots];
        BareHandles = new BareHandle[live.Length];
        Dictionary = new Dictionary<int, long>(live.Length);
        Keys = new int[live.Length];
        for (int i = 0; i < live.Length; i++)
        {
            int slot = live[i].Index;
            uint generation = live[i].Generation;
            Bare[slot] = new BareEntry { Generation = generation, Value = slot };
            BareHandles[i] = new BareHandle { Index = slot, Generation = generation };
            Dictionary[slot] = slot;
            Keys[i] = slot;
        }
    }

    /// <summary>The bare generational array (the floor): one bounds check, one generation compare, one load. Free slots
    /// hold generation 0, which no live handle has.</summary>
    public BareEntry[] Bare { get; }

    /// <summary>Its handles, in the table's random order.</summary>
    public BareHandle[] BareHandles { get; }

    /// <summary><c>Dictionary&lt;int,long&gt;</c> keyed by slot index: what engine code writes otherwise.</summary>
    public Dictionary<int, long> Dictionary { get; }

    /// <summary>Its keys, in the table's random order.</summary>
    public int[] Keys { get; }

    internal struct BareEntry
    {
        public uint Generation;
        public long Value;
    }

    internal struct BareHandle
    {
        public int Index;
        public uint Generation;
    }
}
