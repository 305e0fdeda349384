using System.Runtime.InteropServices;
using Flight.Hal.Resources.Tests.TestSupport;

namespace Flight.Hal.Resources.Tests.Native;

/// <summary>C ABI behaviours that touch process-wide state (the environment, every handle tag), so they run alone.</summary>
[Collection(ProcessWideState.Name)]
public sealed unsafe class NativeApiProcessWideTests
{
    [Fact]
    public void Create_WithNullProfile_AndAnUnknownProfileInTheEnvironment_IsNotFound()
    {
        string? before = Environment.GetEnvironmentVariable(PlatformProfile.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, "amiga");
            nint manager = 77;
            Assert.Equal((int)ResourceStatus.NotFound, NativeApiCalls.ManagerCreate(null, &manager));
            Assert.Equal(0, manager);

            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, " psp ");
            Assert.Equal((int)ResourceStatus.Ok, NativeApiCalls.ManagerCreate(null, &manager));
            Assert.Equal((int)ResourceStatus.Ok, NativeApiCalls.ManagerDestroy(manager));
        }
        finally
        {
            Environment.SetEnvironmentVariable(PlatformProfile.EnvironmentVariable, before);
        }
    }

    [Fact]
    public void Create_BeyondTheProcessIssuerLimit_IsCapacityExceeded_AndWorksAgainAfterDestroy()
    {
        // Arrange
        nint name = Marshal.StringToCoTaskMemUTF8("dreamcast");
        var managers = new List<nint>();
        try
        {
            // Act: ~12 tags each out of 1,023.
            int status;
            while (true)
            {
                nint manager;
                status = NativeApiCalls.ManagerCreate((byte*)name, &manager);
                if (status != (int)ResourceStatus.Ok)
                {
                    Assert.Equal(0, manager);
                    break;
                }

                managers.Add(manager);
                Assert.True(managers.Count < 1_000, "no limit was reached");
            }

            // Assert
            Assert.Equal((int)ResourceStatus.CapacityExceeded, status);
            Assert.InRange(managers.Count, 50, 85);
            foreach (nint manager in managers)
            {
                Assert.Equal((int)ResourceStatus.Ok, NativeApiCalls.ManagerDestroy(manager));
            }

            managers.Clear();
            nint again;
            Assert.Equal((int)ResourceStatus.Ok, NativeApiCalls.ManagerCreate((byte*)name, &again));
            Assert.Equal((int)ResourceStatus.Ok, NativeApiCalls.ManagerDestroy(again));
        }
        finally
        {
            foreach (nint manager in managers)
            {
                NativeApiCalls.ManagerDestroy(manager);
            }

            Marshal.FreeCoTaskMem(name);
        }
    }
}
