using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;

namespace Flight.Hal.Resources.Benchmarks;

/// <summary>Runs the suites: <c>dotnet run -c Release -- --filter '*Pool*'</c>, <c>--anyCategories Pools</c>, <c>--job Dry</c>.</summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
            .Run(args, DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default));
}
