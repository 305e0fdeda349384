using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Flight.Hal.Resources.Native;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Native;

/// <summary>The C structs' layouts, pinned by static_asserts in native-sim/host/header_check.cpp (compiled by CI), must be
/// the managed structs' layouts: this test reads every static_assert there and checks the managed side against it.</summary>
public partial class NativeLayoutTests
{
    private static readonly Dictionary<string, Type> s_managed = new()
    {
        ["fhr_stats"] = typeof(NativeStats),
        ["fhr_region_stats"] = typeof(NativeRegionStats),
        ["fhr_pool_stats"] = typeof(NativePoolStats),
        ["fhr_cache_stats"] = typeof(NativeCacheStats),
    };

    [Fact]
    public void EveryStructSizeAndOffsetPinnedInTheHeaderCheck_MatchesTheManagedStruct()
    {
        // Arrange
        string check = Repository.ReadAllText("native-sim", "host", "header_check.cpp");
        Match[] sizes = SizeAssert().Matches(check).Where(m => s_managed.ContainsKey(m.Groups["type"].Value)).ToArray();
        MatchCollection offsets = OffsetAssert().Matches(check);
        Assert.Equal(s_managed.Count, sizes.Length);
        Assert.Contains("static_assert(sizeof(fhr_handle) == 8", check, StringComparison.Ordinal);
        Assert.Equal(8, sizeof(ulong)); // fhr_handle is ResourceHandle.RawValue
        Assert.True(offsets.Count >= 30, $"only {offsets.Count} offsets pinned");

        // Act and assert: sizes
        foreach (Match match in sizes)
        {
            Type type = s_managed[match.Groups["type"].Value];
            Assert.Equal(int.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture), Marshal.SizeOf(type));
        }

        // Every field, at its offset, and no managed field left unpinned.
        foreach ((string cType, Type type) in s_managed)
        {
            var pinned = offsets.Where(m => m.Groups["type"].Value == cType).ToDictionary(m => Pascal(m.Groups["field"].Value), m => int.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
            FieldInfo[] fields = type.GetFields(BindingFlags.Public | BindingFlags.Instance);
            Assert.Equal(fields.Select(f => f.Name).Order(), pinned.Keys.Order());
            foreach (FieldInfo field in fields)
            {
                Assert.Equal(pinned[field.Name], (int)Marshal.OffsetOf(type, field.Name));
            }
        }
    }

    private static string Pascal(string snake) => string.Concat(snake.Split('_').Select(part => char.ToUpperInvariant(part[0]) + part[1..]));

    [GeneratedRegex(@"static_assert\(sizeof\((?<type>fhr_\w+)\) == (?<value>\d+)")]
    private static partial Regex SizeAssert();

    [GeneratedRegex(@"static_assert\(offsetof\((?<type>fhr_\w+), (?<field>\w+)\) == (?<value>\d+)")]
    private static partial Regex OffsetAssert();
}
