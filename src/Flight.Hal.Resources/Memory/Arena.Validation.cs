namespace Flight.Hal.Resources;

// Validation for tests: a walk over every block that checks the arena's invariants.
public sealed partial class Arena
{
    /// <summary>Walks every block in address order and checks the arena's invariants; for tests.</summary>
    /// <returns>null when consistent, otherwise what is wrong.</returns>
    internal string? Validate()
    {
        long offset = _start;
        long used = 0;
        long free = 0;
        int freeBlocks = 0;
        int usedBlocks = 0;
        bool previousFree = false;
        int index = FirstPhysical();
        int previous = None;
        while (index != None)
        {
            ref Record r = ref RecordAt(index);
            if (r.Offset != offset)
            {
                return $"block {index} at {r.Offset}, expected {offset}";
            }

            if (r.PrevPhys != previous)
            {
                return $"block {index} has PrevPhys {r.PrevPhys}, expected {previous}";
            }

            if (r.Size <= 0 || (r.Size & (Unit - 1)) != 0)
            {
                return $"block {index} has size {r.Size}";
            }

            bool isFree = r.PrevFree != Used;
            if (isFree && previousFree)
            {
                return $"two adjacent free blocks at {r.Offset}";
            }

            if (isFree)
            {
                free += r.Size;
                freeBlocks++;
            }
            else
            {
                used += r.Size;
                usedBlocks++;
            }

            previousFree = isFree;
            offset += r.Size;
            previous = index;
            index = r.NextPhys;
        }

        if (offset != _end)
        {
            return $"blocks end at {offset}, expected {_end}";
        }

        if (used != _usedBytes || free != _freeBytes || freeBlocks != _freeBlockCount || usedBlocks != _handles.Count)
        {
            return $"counters: used {_usedBytes}/{used}, free {_freeBytes}/{free}, free blocks {_freeBlockCount}/{freeBlocks}, allocations {_handles.Count}/{usedBlocks}";
        }

        int listed = 0;
        for (int i = 0; i < _heads.Length; i++)
        {
            for (int b = _heads[i]; b != None; b = RecordAt(b).NextFree)
            {
                Mapping(RecordAt(b).Size >> _unitShift, out int fl, out int sl);
                if (fl * SlCount + sl != i)
                {
                    return $"free block {b} of size {RecordAt(b).Size} in list {i}";
                }

                listed++;
            }

            bool bit = (_slBitmaps[i / SlCount] & (1u << (i % SlCount))) != 0;
            if (bit != (_heads[i] != None))
            {
                return $"bitmap disagrees with list {i}";
            }
        }

        return listed == _freeBlockCount ? null : $"{listed} blocks listed, {_freeBlockCount} counted free";
    }

    private int FirstPhysical()
    {
        for (int i = 0; i < _recordHighWater; i++)
        {
            if (RecordAt(i).PrevFree != Unused && RecordAt(i).Offset == _start)
            {
                return i;
            }
        }

        return None;
    }
}
