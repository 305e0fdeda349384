namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>A model's live set: raw handle to value, with O(1) add, remove, lookup and uniform random pick.</summary>
/// <typeparam name="TValue">What the model knows about each live handle.</typeparam>
public sealed class ModelMap<TValue>
{
    private readonly Dictionary<ulong, int> _index = new();
    private readonly List<ulong> _keys = new();
    private readonly List<TValue> _values = new();

    public int Count => _keys.Count;

    public TValue this[ulong key]
    {
        get => _values[_index[key]];
        set => _values[_index[key]] = value;
    }

    public bool Contains(ulong key) => _index.ContainsKey(key);

    public bool TryGetValue(ulong key, out TValue value)
    {
        if (_index.TryGetValue(key, out int i))
        {
            value = _values[i];
            return true;
        }

        value = default!;
        return false;
    }

    /// <summary>Adds a key that must not be present.</summary>
    /// <exception cref="InvalidOperationException">The key is present already (a model bug).</exception>
    public void Add(ulong key, TValue value)
    {
        if (!_index.TryAdd(key, _keys.Count))
        {
            throw new InvalidOperationException($"Model already holds 0x{key:x}.");
        }

        _keys.Add(key);
        _values.Add(value);
    }

    public bool Remove(ulong key)
    {
        if (!_index.Remove(key, out int i))
        {
            return false;
        }

        int last = _keys.Count - 1;
        if (i != last)
        {
            _keys[i] = _keys[last];
            _values[i] = _values[last];
            _index[_keys[i]] = i;
        }

        _keys.RemoveAt(last);
        _values.RemoveAt(last);
        return true;
    }

    public ulong KeyAt(int i) => _keys[i];

    public TValue ValueAt(int i) => _values[i];

    public ulong RandomKey(Random random) => _keys[random.Next(_keys.Count)];

    public void Clear()
    {
        _index.Clear();
        _keys.Clear();
        _values.Clear();
    }
}
