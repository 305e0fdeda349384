using System.Text.Json;

namespace Flight.Hal.Resources;

/// <summary>Writes a <see cref="ResourceSnapshot"/> as JSON, field by field, with <see cref="Utf8JsonWriter"/>: the
/// format <see cref="ResourceSnapshot.FromJson"/> reads with the source-generated <see cref="ResourceSnapshotJsonContext"/>.</summary>
/// <remarks>Written by hand rather than through the serializer: under NativeAOT, building the serializer's metadata for
/// a type reflects over it once, and the runtime's type loader keeps 8 bytes of native memory that memcheck reports as
/// definitely lost in every C program that asks for a snapshot. This writer needs no metadata; the round-trip tests keep
/// it and the reader in step.</remarks>
internal static class ResourceSnapshotWriter
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    public static byte[] ToUtf8(ResourceSnapshot snapshot)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer, Indented))
        {
            Write(writer, snapshot);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Stream stream, ResourceSnapshot snapshot)
    {
        using var writer = new Utf8JsonWriter(stream, Indented);
        Write(writer, snapshot);
    }

    public static void Write(Utf8JsonWriter w, ResourceSnapshot s)
    {
        w.WriteStartObject();
        w.WriteNumber("version", s.Version);
        w.WriteString("profile", s.Profile);
        w.WriteString("takenAt", s.TakenAt);
        w.WriteNumber("liveHandles", s.LiveHandles);
        w.WriteStartArray("types");
        foreach (TypeSnapshot t in s.Types)
        {
            w.WriteStartObject();
            w.WriteString("type", t.Type.ToString());
            w.WriteNumber("budgetBytes", t.BudgetBytes);
            w.WriteNumber("reservedBytes", t.ReservedBytes);
            w.WriteNumber("warningPercent", t.WarningPercent);
            w.WriteNumber("criticalPercent", t.CriticalPercent);
            w.WriteNumber("currentBytes", t.CurrentBytes);
            w.WriteNumber("peakBytes", t.PeakBytes);
            w.WriteString("pressure", t.Pressure.ToString());
            w.WriteNumber("acquisitions", t.Acquisitions);
            w.WriteNumber("releases", t.Releases);
            w.WriteNumber("failures", t.Failures);
            Counts(w, "failuresByStatus", t.FailuresByStatus);
            w.WriteNumber("reserveAcquisitions", t.ReserveAcquisitions);
            w.WriteNumber("emergencyOverruns", t.EmergencyOverruns);
            w.WriteNumber("reclamations", t.Reclamations);
            w.WriteNumber("reclaimedBytes", t.ReclaimedBytes);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("regions");
        foreach (RegionSnapshot r in s.Regions)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("kind", r.Kind.ToString());
            w.WriteString("backing", r.Backing.ToString());
            w.WriteNumber("capacityBytes", r.CapacityBytes);
            w.WriteNumber("reservedBytes", r.ReservedBytes);
            w.WriteNumber("usedBytes", r.UsedBytes);
            w.WriteNumber("freeBytes", r.FreeBytes);
            w.WriteNumber("peakUsedBytes", r.PeakUsedBytes);
            w.WriteNumber("largestFreeBlock", r.LargestFreeBlock);
            w.WriteNumber("fragmentation", r.Fragmentation);
            w.WriteNumber("allocations", r.Allocations);
            w.WriteNumber("failures", r.Failures);
            w.WriteStartArray("freeBlocks");
            foreach (FreeBlockBucket b in r.FreeBlocks)
            {
                w.WriteStartObject();
                w.WriteNumber("minBytes", b.MinBytes);
                w.WriteNumber("maxBytes", b.MaxBytes);
                w.WriteNumber("count", b.Count);
                w.WriteNumber("bytes", b.Bytes);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("pools");
        foreach (PoolSnapshot p in s.Pools)
        {
            w.WriteStartObject();
            w.WriteString("type", p.Type.ToString());
            w.WriteNumber("blockSize", p.BlockSize);
            w.WriteNumber("alignment", p.Alignment);
            w.WriteNumber("usedBlocks", p.UsedBlocks);
            w.WriteNumber("totalBlocks", p.TotalBlocks);
            w.WriteNumber("peakUsedBlocks", p.PeakUsedBlocks);
            w.WriteNumber("capacityBlocks", p.CapacityBlocks);
            w.WriteNumber("usedBytes", p.UsedBytes);
            w.WriteNumber("capacityBytes", p.CapacityBytes);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("owners");
        foreach (OwnerSnapshot o in s.Owners)
        {
            w.WriteStartObject();
            w.WriteString("name", o.Name);
            w.WriteNumber("resources", o.Resources);
            w.WriteNumber("bytes", o.Bytes);
            Counts(w, "bytesByType", o.BytesByType);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("caches");
        foreach (CacheSnapshot c in s.Caches)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            w.WriteString("owner", c.Owner);
            w.WriteNumber("entries", c.Entries);
            w.WriteNumber("referenced", c.Referenced);
            w.WriteNumber("unreferenced", c.Unreferenced);
            w.WriteNumber("loading", c.Loading);
            w.WriteNumber("residentBytes", c.ResidentBytes);
            w.WriteNumber("hits", c.Hits);
            w.WriteNumber("misses", c.Misses);
            w.WriteNumber("loadFailures", c.LoadFailures);
            w.WriteNumber("evictions", c.Evictions);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("largestResources");
        foreach (LiveResourceSnapshot l in s.LargestResources)
        {
            w.WriteStartObject();
            w.WriteString("handle", l.Handle);
            w.WriteString("name", l.Name); // null is written as null
            w.WriteString("type", l.Type.ToString());
            w.WriteNumber("size", l.Size);
            w.WriteString("owner", l.Owner);
            w.WriteString("placement", l.Placement);
            w.WriteString("flags", l.Flags.ToString());
            if (l.AgeSeconds is double age)
            {
                w.WriteNumber("ageSeconds", age);
            }
            else
            {
                w.WriteNull("ageSeconds");
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
    }

    private static void Counts(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, long> counts)
    {
        w.WriteStartObject(name);
        foreach (KeyValuePair<string, long> pair in counts)
        {
            w.WriteNumber(pair.Key, pair.Value);
        }

        w.WriteEndObject();
    }
}
