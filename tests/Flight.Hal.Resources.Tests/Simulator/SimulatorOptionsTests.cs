using Flight.Hal.Resources.Simulator;

namespace Flight.Hal.Resources.Tests.Simulator;

public class SimulatorOptionsTests
{
    [Fact]
    public void NoArguments_GiveTheDefaults()
    {
        SimulatorOptions options = SimulatorOptions.Parse([]);

        Assert.Equal("dreamcast", options.Profile);
        Assert.Equal("game", options.Workload);
        Assert.Null(options.Frames);
        Assert.Equal("report.html", options.Report);
        Assert.False(options.Help);
    }

    [Fact]
    public void EveryOption_IsRead()
    {
        SimulatorOptions options = SimulatorOptions.Parse(
            ["--profile", "ps2", "--workload", "trace.csv", "--frames", "1200", "--report", "out/r.html", "--seed", "-7", "--quiet"]);

        Assert.Equal("ps2", options.Profile);
        Assert.Equal("trace.csv", options.Workload);
        Assert.Equal(1200, options.Frames);
        Assert.Equal("out/r.html", options.Report);
        Assert.Equal(-7, options.Seed);
        Assert.True(options.Quiet);
        Assert.Null(SimulatorOptions.Parse(["--report", "none"]).Report);
        Assert.True(SimulatorOptions.Parse(["--help"]).Help);
        Assert.Equal("peak.json", SimulatorOptions.Parse(["--snapshot", "peak.json"]).Snapshot);
        Assert.Null(SimulatorOptions.Parse([]).Snapshot);
        Assert.Equal("run.json", SimulatorOptions.Parse(["--record", "run.json"]).Record);
        Assert.Null(SimulatorOptions.Parse([]).Record);
        Assert.Equal(65536, SimulatorOptions.Parse(["--defrag", "65536"]).Defrag);
        Assert.Equal(0, SimulatorOptions.Parse([]).Defrag);
    }

    [Theory]
    [InlineData(new[] { "--profile", "amiga" }, "Unknown profile 'amiga'")]
    [InlineData(new[] { "--frames", "0" }, "--frames must be a whole number")]
    [InlineData(new[] { "--frames", "many" }, "--frames must be a whole number")]
    [InlineData(new[] { "--frames" }, "--frames needs a value")]
    [InlineData(new[] { "--profile", "--frames", "10" }, "--profile needs a value")]
    [InlineData(new[] { "--fast" }, "Unknown argument '--fast'")]
    [InlineData(new[] { "--seed", "1.5" }, "--seed must be a whole number")]
    [InlineData(new[] { "--snapshot" }, "--snapshot needs a value")]
    [InlineData(new[] { "--record" }, "--record needs a value")]
    [InlineData(new[] { "--defrag", "0" }, "--defrag must be a whole number of bytes > 0")]
    [InlineData(new[] { "--defrag", "lots" }, "--defrag must be a whole number of bytes > 0")]
    public void BadArguments_AreRefused_WithAClearMessage(string[] args, string message)
    {
        FormatException exception = Assert.Throws<FormatException>(() => SimulatorOptions.Parse(args));

        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }
}
