namespace Flight.Hal.Resources.Tests.TestSupport;

/// <summary>Files of the repository the tests check (README examples, the C header check).</summary>
public static class Repository
{
    /// <summary>The folder holding Flight.Hal.Resources.sln, found upwards from the test binaries.</summary>
    public static string Root
    {
        get
        {
            string? folder = AppContext.BaseDirectory;
            while (folder != null && !File.Exists(Path.Combine(folder, "Flight.Hal.Resources.sln")))
            {
                folder = Path.GetDirectoryName(folder);
            }

            return folder ?? throw new InvalidOperationException("Repository root not found.");
        }
    }

    /// <summary>The text of a file, by its path from the repository root.</summary>
    public static string ReadAllText(params string[] path) => File.ReadAllText(Path.Combine([Root, .. path]));
}
