using System.Reflection;

namespace Flight.Hal.Resources.Tests;

/// <summary>Conventions README promises for the whole public surface.</summary>
public class ApiConventionsTests
{
    private const BindingFlags Members = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>README, "Results and errors": every public <c>TryX</c> that returns a <see cref="ResourceStatus"/> has a
    /// twin <c>X</c> that throws <see cref="ResourceException"/> instead; <c>TryResolve</c> (address and size) has
    /// <c>GetSpan</c>.</summary>
    [Fact]
    public void EveryPublicTryMethodReturningAStatus_HasATwin()
    {
        var tried = new List<string>();
        var missing = new List<string>();
        foreach (Type type in typeof(ResourceManager).Assembly.GetExportedTypes())
        {
            MethodInfo[] methods = type.GetMethods(Members);
            foreach (MethodInfo method in methods.Where(m => m.Name.StartsWith("Try", StringComparison.Ordinal) && m.ReturnType == typeof(ResourceStatus)))
            {
                string twin = method.Name == "TryResolve" ? "GetSpan" : method.Name["Try".Length..];
                tried.Add($"{type.Name}.{method.Name}");
                if (!methods.Any(m => m.Name == twin && m.ReturnType != typeof(ResourceStatus)))
                {
                    missing.Add($"{type.Name}.{method.Name} (no {twin})");
                }
            }
        }

        Assert.True(tried.Count > 20, $"only {tried.Count} Try methods found: the scan is broken");
        Assert.True(missing.Count == 0, "Without a throwing twin: " + string.Join(", ", missing));
    }
}
