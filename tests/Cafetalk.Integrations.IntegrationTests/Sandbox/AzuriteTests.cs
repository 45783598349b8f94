using System.Net;
using System.Net.Sockets;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.IntegrationTests.Sandbox;

public sealed class AzuriteTests
{
    private static async Task<bool> ListensAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Start_TwoInstances_GetTheirOwnPortsAndStorage()
    {
        await using var first = await Azurite.StartAsync();
        await using var second = await Azurite.StartAsync();

        Assert.NotEqual(first.TablePort, second.TablePort);
        await StorageAccount.FromConnectionString(first.ConnectionString).Table("OnlyInFirst").CreateIfNotExistsAsync();
        var tablesInSecond = new List<string>();
        await foreach (var table in StorageAccount.FromConnectionString(second.ConnectionString).TableService().QueryAsync())
        {
            tablesInSecond.Add(table.Name);
        }

        Assert.DoesNotContain("OnlyInFirst", tablesInSecond);
    }

    [Fact]
    public async Task OnDisk_StoppedThenStartedAgain_RefusesMeanwhileAndKeepsItsDataOnTheSamePorts()
    {
        await using var azurite = await Azurite.StartOnDiskAsync();
        var storage = StorageAccount.FromConnectionString(azurite.ConnectionString);
        await storage.EnsureProvisionedAsync();
        var table = storage.Table(TableNames.Bookings);
        await table.AddEntityAsync(new Azure.Data.Tables.TableEntity("lec_restart", "bk_restart") { ["Version"] = 3L });
        await storage.Queue(QueueNames.ZoomConverge).SendMessageAsync("{\"lecturerId\":\"lec_restart\",\"bookingId\":\"bk_restart\"}");
        var port = azurite.TablePort;

        await azurite.StopAsync();
        var listeningWhileStopped = await ListensAsync(port);
        await azurite.StartAgainAsync();

        Assert.False(listeningWhileStopped);
        Assert.Equal(port, azurite.TablePort);
        Assert.Equal(3L, (await table.GetEntityAsync<Azure.Data.Tables.TableEntity>("lec_restart", "bk_restart")).Value.GetInt64("Version"));
        var message = Assert.Single((await storage.Queue(QueueNames.ZoomConverge).ReceiveMessagesAsync(32)).Value);
        Assert.Contains("bk_restart", message.Body.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dispose_StopsTheEmulatorAndFreesItsPorts()
    {
        var azurite = await Azurite.StartAsync();
        var ports = new[] { azurite.BlobPort, azurite.QueuePort, azurite.TablePort };
        Assert.True(await ListensAsync(azurite.TablePort));

        await azurite.DisposeAsync();

        foreach (var port in ports)
        {
            Assert.False(await ListensAsync(port), $"port {port} still listening after dispose");
        }
    }
}
