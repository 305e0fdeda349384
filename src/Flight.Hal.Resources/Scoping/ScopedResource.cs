namespace Flight.Hal.Resources;

/// <summary>One resource released at the end of a <c>using</c> block.</summary>
/// <remarks>A <c>ref struct</c>: it lives on the stack of the thread that acquired it. Copies are safe — a second
/// <see cref="Dispose"/> meets a stale generation and does nothing.</remarks>
public readonly ref struct ScopedResource
{
    private readonly ResourceManager? _manager;

    internal ScopedResource(ResourceManager manager, ResourceHandle handle)
    {
        _manager = manager;
        Handle = handle;
    }

    /// <summary>The resource's handle (valid until the scope ends).</summary>
    public ResourceHandle Handle { get; }

    /// <summary>The resource's bytes; empty once released.</summary>
    public Span<byte> Span => _manager == null || _manager.IsDisposed ? default : _manager.Resolve(Handle);

    /// <summary>Releases the resource if it is still alive; does nothing otherwise.</summary>
    public void Dispose()
    {
        if (_manager != null && !_manager.IsDisposed)
        {
            _manager.Release(Handle);
        }
    }
}
