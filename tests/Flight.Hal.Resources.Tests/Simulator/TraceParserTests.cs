using Flight.Hal.Resources.Tests.TestSupport;
using Flight.Hal.Resources.Simulator;

namespace Flight.Hal.Resources.Tests.Simulator;

public class TraceParserTests
{
    private const string GoodJson = """
        {
          // a game's plan: comments and trailing commas are fine
          "name": "my level",
          "events": [
            { "frame": 0, "op": "acquire", "id": "tex", "type": "Hardware", "size": 65536, "alignment": 32, "flags": ["GpuAccessible", "Cacheable"] },
            { "frame": 0, "op": "acquire", "id": "vb", "size": 4096, "flags": "Shareable", "owner": "GraphicsDriver" },
            { "frame": 1, "op": "share", "id": "vb", "target": "vb.audio", "owner": "AudioDriver" },
            { "frame": 2, "op": "acquire", "id": "boss", "size": 1048576, "mode": "Emergency" },
            { "frame": 3, "op": "release", "id": "vb" },
            { "frame": 3, "op": "release", "id": "vb.audio" },
            { "frame": 9, "op": "release", "id": "tex" },
          ],
        }
        """;

    private const string GoodCsv = """
        # frame order matters; columns may come in any order, empty cells take defaults
        op,frame,id,type,size,flags,mode,owner,target,alignment
        acquire,0,tex,Hardware,65536,GpuAccessible|Cacheable,,,,32
        acquire,0,scratch,,512,,,,,
        release,0,scratch,,,,,,,
        acquire,1,vb,Memory,4096,Shareable,NonBlocking,GraphicsDriver,,
        share,1,vb,,,,,AudioDriver,vb.audio,
        release,4,vb,,,,,,,
        release,4,vb.audio,,,,,,,
        release,5,tex,,,,,,,
        """;

    [Fact]
    public void Json_IsRead()
    {
        Workload workload = TraceParser.ParseJson(GoodJson, "file", "plan.json");

        Assert.Equal("my level", workload.Name);
        Assert.Equal(7, workload.Events.Count);
        Assert.Equal(10, workload.FrameCount);
        TraceEvent texture = workload.Events[0];
        Assert.Equal(ResourceType.Hardware, texture.Type);
        Assert.Equal(65536, texture.Size);
        Assert.Equal(32, texture.Alignment);
        Assert.Equal(ResourceFlags.GpuAccessible | ResourceFlags.Cacheable, texture.Flags);
        Assert.Equal(AcquisitionMode.Emergency, workload.Events[3].Mode);
        Assert.Equal(("AudioDriver", "vb.audio"), (workload.Events[2].Owner, workload.Events[2].Target));
    }

    [Fact]
    public void Csv_IsRead()
    {
        Workload workload = TraceParser.ParseCsv(GoodCsv, "plan", "plan.csv");

        Assert.Equal(8, workload.Events.Count);
        Assert.Equal(6, workload.FrameCount);
        Assert.Equal(ResourceFlags.GpuAccessible | ResourceFlags.Cacheable, workload.Events[0].Flags);
        Assert.Equal(ResourceType.Memory, workload.Events[1].Type);
        Assert.Equal("GraphicsDriver", workload.Events[3].Owner);
        Assert.Equal(TraceOp.Share, workload.Events[4].Op);
    }

    [Theory]
    [InlineData("frame,op,id,size\n0,aquire,a,64", "line 2: op must be acquire, release or share, not 'aquire'")]
    [InlineData("frame,op,id,size\n0,acquire,,64", "line 2: id is missing")]
    [InlineData("frame,op,id,size\n0,acquire,a,-3", "line 2: size must be a whole number of bytes > 0")]
    [InlineData("frame,op,id,size\nx,acquire,a,64", "line 2: frame must be a whole number >= 0")]
    [InlineData("frame,op,id,size,alignment\n0,acquire,a,64,24", "line 2: alignment must be 0 or a power of two")]
    [InlineData("frame,op,id,size,flags\n0,acquire,a,64,Shiny", "line 2: unknown flag 'Shiny'")]
    [InlineData("frame,op,id,size,flags\n0,acquire,a,64,Shareable|Exclusive", "line 2: A resource cannot be both Shareable and Exclusive")]
    [InlineData("frame,op,id,type,size\n0,acquire,a,Texture,64", "line 2: unknown type 'Texture'")]
    [InlineData("frame,op,id,size,mode\n0,acquire,a,64,Eventually", "line 2: unknown mode 'Eventually'")]
    [InlineData("frame,op,id\n0,release,ghost", "(line 2): 'ghost' is released but not alive")]
    [InlineData("frame,op,id,size\n0,acquire,a,64\n1,acquire,a,64", "(line 3): 'a' is acquired again while still alive")]
    [InlineData("frame,op,id,size\n5,acquire,a,64\n2,release,a", "(line 3): frame 2 comes after frame 5")]
    [InlineData("frame,op,id,size,owner\n0,acquire,a,64,\n0,share,a,,B", "line 3: share needs a target")]
    [InlineData("frame,op,id,owner,target\n0,share,ghost,B,c", "(line 2): 'ghost' is shared but not alive")]
    [InlineData("# nothing but a comment", "empty; expected a header line")]
    [InlineData("op,size\nacquire,64", "the header must name at least the columns frame, op and id")]
    [InlineData("frame,op,id", "no events")]
    public void MalformedCsv_IsRefused_NamingTheLine(string csv, string message)
    {
        FormatException exception = Assert.Throws<FormatException>(() => TraceParser.ParseCsv(csv, "bad", "bad.csv"));

        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
        Assert.StartsWith("bad.csv", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ \"events\": [ { \"frame\": 0, \"op\": \"acquire\", \"id\": \"a\" } ] }", "event 0: size must be a whole number")]
    [InlineData("{ \"events\": [ 42 ] }", "event 0: expected an object")]
    [InlineData("{ \"frames\": [] }", "expected an object with an \"events\" array")]
    [InlineData("[1, 2]", "expected an object with an \"events\" array")]
    [InlineData("{ \"events\": [ { \"frame\": 0, \"op\": \"acquire\", \"id\": \"a\", \"size\": {} } ] }", "\"size\" must be a string or a number")]
    [InlineData("{ \"events\": [ ", "not valid JSON")]
    [InlineData("{ \"events\": [] }", "no events")]
    public void MalformedJson_IsRefused_NamingTheEvent(string json, string message)
    {
        FormatException exception = Assert.Throws<FormatException>(() => TraceParser.ParseJson(json, "bad", "bad.json"));

        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ReadsFilesByExtension_AndRefusesUnknownOnes()
    {
        string folder = Directory.CreateTempSubdirectory("flight-sim-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "plan.csv"), GoodCsv);
            File.WriteAllText(Path.Combine(folder, "plan.json"), GoodJson);
            File.WriteAllText(Path.Combine(folder, "plan.txt"), GoodCsv);

            Assert.Equal(8, TraceParser.Load(Path.Combine(folder, "plan.csv")).Events.Count);
            Assert.Equal(7, TraceParser.Load(Path.Combine(folder, "plan.json")).Events.Count);
            Assert.Contains("a .json or a .csv", Assert.Throws<FormatException>(() => TraceParser.Load(Path.Combine(folder, "plan.txt"))).Message, StringComparison.Ordinal);
            Assert.Contains("Built-in: game, stress", Assert.Throws<FormatException>(() => TraceParser.Load(Path.Combine(folder, "missing.csv"))).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void TheReadmesExamples_Parse()
    {
        string readme = Repository.ReadAllText("native-sim", "README.md");
        string csv = System.Text.RegularExpressions.Regex.Match(readme, "```csv\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;
        string json = System.Text.RegularExpressions.Regex.Match(readme, "```json\n(.*?)```", System.Text.RegularExpressions.RegexOptions.Singleline).Groups[1].Value;

        Assert.Equal(6, TraceParser.ParseCsv(csv, "readme", "readme.csv").Events.Count);
        Assert.Equal("title screen", TraceParser.ParseJson(json, "readme", "readme.json").Name);
    }
}
