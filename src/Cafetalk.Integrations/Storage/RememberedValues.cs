using System.Collections.Concurrent;

namespace Cafetalk.Integrations.Storage;

/// <summary>
/// Values this instance read or wrote, each reused until a given moment: it saves a storage read per message where a
/// value rarely changes, or where a stale one only costs a refused write. Bounded: cleared whole when full.
/// </summary>
public sealed class RememberedValues<TValue>(int capacity = 10_000)
{
    private readonly ConcurrentDictionary<string, (TValue Value, DateTimeOffset Until)> _values = new(StringComparer.Ordinal);

    public bool TryGet(string key, DateTimeOffset now, out TValue value)
    {
        if (_values.TryGetValue(key, out var entry) && entry.Until > now)
        {
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public TValue Remember(string key, TValue value, DateTimeOffset until)
    {
        if (_values.Count >= capacity)
        {
            _values.Clear();
        }

        _values[key] = (value, until);
        return value;
    }

    public void Forget(string key) => _values.TryRemove(key, out _);
}
