using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Flight.Hal.Resources;

// Blocks: one record per block of the region, kept outside it (the region's bytes are never touched), linked in address
// order; records are recycled through a free list, and blocks are split and merged here.
public sealed unsafe partial class Arena
{
    private readonly int _recordCapacity;    // 2 * max allocations + 1: free blocks never outnumber used ones by more than one.
    private NativePages<Record> _records;    // Owned; committed a page at a time. Reached only through RecordAt.
    private int _recordHighWater;            // Records [0, _recordHighWater) have been used.
    private int _recordFreeHead = None;      // Unused records, linked through NextFree.
    private int _recordFreeCount;            // Records on that list.

    /// <summary>The record at <paramref name="index"/>: the one way to reach a record, so every access is bounds-checked
    /// in debug builds (and costs a shift, a mask and a directory load in release builds).</summary>
    /// <param name="index">A record index below the committed records.</param>
    /// <returns>The record, in place.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Record RecordAt(int index)
    {
        Debug.Assert(index >= 0 && index < _records.Committed, "Record index out of range.");
        return ref *_records.At(index);
    }

    /// <summary>Makes sure <paramref name="count"/> more records can be had without allocating (see
    /// <see cref="NewRecord"/>): commits the next page of records if the free list and the committed ones run short.</summary>
    /// <returns>False when the page could not be allocated (nothing changed).</returns>
    private bool TryCommitRecords(int count)
    {
        int spare = _recordFreeCount + (_records.Committed - _recordHighWater);
        return spare >= count || _records.TryCommit(Math.Min(_recordCapacity, _recordHighWater + count - _recordFreeCount), _allocator);
    }

    private int NewRecord()
    {
        int index = _recordFreeHead;
        if (index != None)
        {
            _recordFreeHead = RecordAt(index).NextFree;
            _recordFreeCount--;
        }
        else
        {
            // SAFETY: free blocks never outnumber used blocks by more than one and used blocks are bounded by
            // MaxAllocations, so 2 * MaxAllocations + 1 records always suffice; TryCommitRecords committed this one.
            Debug.Assert(_recordHighWater < _records.Committed, "Block records exhausted or not committed.");
            index = _recordHighWater++;
        }

        RecordAt(index) = default;
        return index;
    }

    private void ReleaseRecord(int index)
    {
        RecordAt(index).PrevFree = Unused;
        RecordAt(index).NextFree = _recordFreeHead;
        _recordFreeHead = index;
        _recordFreeCount++;
    }

    /// <summary>Cuts the first <paramref name="bytes"/> of a block into a new block (returned) before it.</summary>
    private int SplitFront(int block, long bytes)
    {
        int front = NewRecord();
        ref Record r = ref RecordAt(block);
        ref Record f = ref RecordAt(front);
        f.Offset = r.Offset;
        f.Size = bytes;
        f.PrevPhys = r.PrevPhys;
        f.NextPhys = block;
        if (r.PrevPhys != None)
        {
            RecordAt(r.PrevPhys).NextPhys = front;
        }

        r.PrevPhys = front;
        r.Offset += bytes;
        r.Size -= bytes;
        return front;
    }

    /// <summary>Keeps the first <paramref name="keep"/> bytes of a block and returns the rest as a new block after it.</summary>
    private int SplitBack(int block, long keep)
    {
        int back = NewRecord();
        ref Record r = ref RecordAt(block);
        ref Record b = ref RecordAt(back);
        b.Offset = r.Offset + keep;
        b.Size = r.Size - keep;
        b.PrevPhys = block;
        b.NextPhys = r.NextPhys;
        if (r.NextPhys != None)
        {
            RecordAt(r.NextPhys).PrevPhys = back;
        }

        r.NextPhys = back;
        r.Size = keep;
        return back;
    }

    /// <summary>Merges block <paramref name="block"/> into its physical predecessor and releases its record.</summary>
    private void MergeIntoPrevious(int block)
    {
        ref Record r = ref RecordAt(block);
        int previous = r.PrevPhys;
        ref Record p = ref RecordAt(previous);
        p.Size += r.Size;
        p.NextPhys = r.NextPhys;
        if (r.NextPhys != None)
        {
            RecordAt(r.NextPhys).PrevPhys = previous;
        }

        ReleaseRecord(block);
    }

    /// <summary>One block of the region, free or in use. Blocks form a list in address order (PrevPhys/NextPhys);
    /// free blocks are also on their size class's list (PrevFree/NextFree).</summary>
    private struct Record
    {
        public long Offset;   // From the region base; a multiple of the unit.
        public long Size;     // A multiple of the unit, > 0.
        public int PrevPhys;  // Block just below, or None.
        public int NextPhys;  // Block just above, or None.
        public int PrevFree;  // Free: previous on its list or None. Used: Used. Unused record: Unused.
        public int NextFree;  // Free: next on its list or None. Unused record: next unused record. Used: alignment log2
                              // in bits 0-7, pins (Arena.Pin) from bit 8.
    }
}
