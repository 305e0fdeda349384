using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Flight.Hal.Resources.Benchmarks;

/// <summary>Runs the suites: <c>dotnet run -c Release -- --filter '*Pool*'</c>, <c>--anyCategories Pools</c>, <c>--job Dry</c>.</summary>
public static class Program
{
    /// <returns>0 when every selected benchmark ran; 1 when one failed or a validator reported a critical error,
    /// so CI notices a suite that rots.</returns>
    public static int Main(string[] args)
    {
        IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly)
            .Run(args, DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default));
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
