using System.Globalization;
using System.Text;

namespace Flight.Hal.Resources;

/// <summary>Every resource alive in a <see cref="ResourceManager"/> at one moment: what a disposed manager hands to
/// <see cref="ResourceManagerOptions.LeakReported"/>.</summary>
/// <remarks>Immutable. A shared resource appears once per owner still holding it.</remarks>
public sealed class LeakReport
{
    internal LeakReport(string profileName, IReadOnlyList<LeakedResource> resources)
    {
        ProfileName = profileName;
        Resources = resources;
        foreach (LeakedResource resource in resources)
        {
            TotalBytes += resource.Size;
        }
    }

    /// <summary>The manager's profile.</summary>
    public string ProfileName { get; }

    /// <summary>The live resources, in no particular order.</summary>
    public IReadOnlyList<LeakedResource> Resources { get; }

    /// <summary>How many there are.</summary>
    public int Count => Resources.Count;

    /// <summary>Whether nothing leaked.</summary>
    public bool IsEmpty => Resources.Count == 0;

    /// <summary>Sum of their sizes (a shared resource counts once per owner).</summary>
    public long TotalBytes { get; }

    /// <summary>Bytes of <paramref name="type"/> still alive.</summary>
    /// <param name="type">The resource type.</param>
    /// <returns>The sum of the sizes of that type's entries.</returns>
    public long BytesOf(ResourceType type)
    {
        long bytes = 0;
        foreach (LeakedResource resource in Resources)
        {
            if (resource.Type == type)
            {
                bytes += resource.Size;
            }
        }

        return bytes;
    }

    /// <summary>A readable table: one line per resource, with its stack when captured.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Count} resource(s) alive in a '{ProfileName}' manager, {TotalBytes} bytes");
        foreach (LeakedResource r in Resources)
        {
            text.AppendLine();
            text.Append(CultureInfo.InvariantCulture, $"  {r.Type,-13} {r.Size,12} B  {r.Name ?? "(unnamed)"}  owner {r.Owner}  in {r.Placement}  {r.Handle}");
            if (r.AcquisitionStack != null)
            {
                text.AppendLine();
                text.Append(r.AcquisitionStack);
            }
        }

        return text.ToString();
    }
}
