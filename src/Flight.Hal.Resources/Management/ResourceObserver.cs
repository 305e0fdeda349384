namespace Flight.Hal.Resources;

/// <summary>What a higher layer attached to a <see cref="ResourceManager"/> hears of every successful acquisition,
/// release and share (the Diagnostics layer's recorder, which reads frames from <see cref="ResourceManager.CurrentFrame"/>). Called on the thread that did it, right
/// after the operation succeeded and before it returns (a share: under the registry lock), so the order of the calls is
/// an order the operations could have happened in. Implementations must be fast, must not allocate per call, must not
/// call back into the manager, and must not throw.</summary>
internal abstract class ResourceObserver
{
    /// <summary>A resource was acquired.</summary>
    /// <param name="handle">Its handle.</param>
    /// <param name="metadata">What was asked for.</param>
    /// <param name="mode">The acquisition mode asked for.</param>
    /// <param name="owner">The owner's id (0: none).</param>
    public abstract void OnAcquired(ResourceHandle handle, in ResourceMetadata metadata, AcquisitionMode mode, int owner);

    /// <summary>A handle was released.</summary>
    public abstract void OnReleased(ResourceHandle handle);

    /// <summary>A shareable resource got another handle, for <paramref name="owner"/>.</summary>
    public abstract void OnShared(ResourceHandle source, int owner, ResourceHandle shared);

    /// <summary>The manager is being disposed: the observer is detached after this call (owner names can still be read).</summary>
    public abstract void OnManagerDisposing();
}
