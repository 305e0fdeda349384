namespace Flight.Hal.Resources;

/// <summary>What a platform's memory region is for; requests are routed by it.</summary>
public enum RegionKind
{
    /// <summary>General-purpose main RAM. Every profile has exactly one.</summary>
    Main = 0,

    /// <summary>Memory the GPU reads directly (textures, vertex buffers): the Dreamcast's PowerVR RAM, the PSP's eDRAM.</summary>
    Video = 1,

    /// <summary>Memory the sound processor reads directly (samples, sound banks): the Dreamcast's AICA RAM.</summary>
    Sound = 2,
}
