using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Sandbox;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.IntegrationTests.Infrastructure;

/// <summary>Per-run erasure keys (as the Sandbox makes them) for tests that build the registry by hand.</summary>
public static class TestErasureKeys
{
    public static readonly PrivacyOfficeKeyPair PrivacyOffice = PrivacyOfficeKeyPair.Generate();

    public static readonly IOptions<ErasureKeysOptions> Options = Microsoft.Extensions.Options.Options.Create(new ErasureKeysOptions
    {
        MemberKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        PrivacyOfficePublicKey = PrivacyOffice.PublicKey,
    });

    public static SubjectRegistry Registry(StorageAccount storage, TimeProvider time) => new(storage, new MemberKeys(Options), Options, time);
}
