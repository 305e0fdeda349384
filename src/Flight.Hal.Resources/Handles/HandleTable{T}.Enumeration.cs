using System.Diagnostics;

namespace Flight.Hal.Resources;

// Enumeration: the live entries in slot order, by Entry, without allocating.
public sealed unsafe partial class HandleTable<T>
{
    /// <summary>Enumerates the live entries in slot order.</summary>
    /// <returns>An allocation-free enumerator.</returns>
    /// <exception cref="ObjectDisposedException">The table has been disposed.</exception>
    /// <remarks>O(high-water mark). Freeing the current entry during enumeration is allowed; an entry allocated
    /// during enumeration may or may not be visited.</remarks>
    public Enumerator GetEnumerator()
    {
        if (!_slots.IsAllocated)
        {
            ThrowHelper.ThrowObjectDisposed(this);
        }

        return new Enumerator(this);
    }

    /// <summary>One live entry seen during enumeration.</summary>
    public readonly ref struct Entry
    {
        private readonly ref T _value;

        internal Entry(Handle<T> handle, ref T value)
        {
            Handle = handle;
            _value = ref value;
        }

        /// <summary>The entry's handle.</summary>
        public Handle<T> Handle { get; }

        /// <summary>The entry's value, writable in place.</summary>
        public ref T Value => ref _value;
    }

    /// <summary>Walks the live entries of a <see cref="HandleTable{T}"/> in slot order without allocating.</summary>
    public ref struct Enumerator
    {
        private readonly HandleTable<T> _table;
        private int _index;

        internal Enumerator(HandleTable<T> table)
        {
            _table = table;
            _index = -1;
        }

        /// <summary>The current live entry.</summary>
        public readonly Entry Current
        {
            get
            {
                // SAFETY: MoveNext only stops on an index below _highWater of a table that was live then.
                Debug.Assert(_table._slots.IsAllocated, "Table disposed during enumeration.");
                Slot* slot = _table._slots.At(_index, PageShift);
                return new Entry(new Handle<T>(slot->Key), ref slot->Value);
            }
        }

        /// <summary>Advances to the next live entry.</summary>
        /// <returns><see langword="false"/> after the last one.</returns>
        /// <exception cref="ObjectDisposedException">The table was disposed during enumeration.</exception>
        public bool MoveNext()
        {
            if (!_table._slots.IsAllocated)
            {
                ThrowHelper.ThrowObjectDisposed(_table);
            }

            int highWater = _table._highWater;
            while (++_index < highWater)
            {
                if (IsLive(_table._slots.At(_index, PageShift)->Key))
                {
                    return true;
                }
            }

            _index = highWater;
            return false;
        }
    }
}
