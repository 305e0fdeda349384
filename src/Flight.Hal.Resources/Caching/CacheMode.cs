namespace Flight.Hal.Resources;

/// <summary>What a load request does when its key is already cached (as Godot's <c>ResourceLoader.CacheMode</c>).</summary>
/// <remarks>Values are also the C ABI's codes.</remarks>
public enum CacheMode
{
    /// <summary>Return the cached entry if there is one (a hit); load and cache it otherwise. The default.</summary>
    Reuse = 0,

    /// <summary>Load a new version and cache it under the key. Holders of the old version keep it until they release
    /// it; it is then unloaded with <see cref="CacheUnloadReason.Replaced"/>.</summary>
    Replace = 1,

    /// <summary>Load a private copy that is never cached: no other request sees it, and it is unloaded
    /// (<see cref="CacheUnloadReason.Released"/>) when its last reference is released.</summary>
    Ignore = 2,
}
