using Cafetalk.Integrations.Disclosure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cafetalk.Integrations.Erasure;

/// <summary>Registers erasure: the receipts, the orchestrator and each provider's step, in the order they run.</summary>
public static class ErasureServiceCollectionExtensions
{
    public static IServiceCollection AddErasure(this IServiceCollection services)
    {
        services.TryAddSingleton<ErasureReceipts>();
        services.TryAddSingleton<ErasureFollowUps>();
        services.TryAddTransient<MemberErasure>();
        services.TryAddTransient<ErasureRequests>();
        services.TryAddSingleton<MemberErasureFlow>();
        services.TryAddEnumerable(ServiceDescriptor.Transient<IErasureStep, ZoomErasureStep>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IErasureStep, GoogleCalendarErasureStep>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IErasureStep, VimeoErasureStep>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IErasureStep, NewsletterErasureStep>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IErasureStep, StoredIdsErasureStep>());
        services.TryAddEnumerable(ServiceDescriptor.Transient<IErasureStep, PoisonErasureStep>());
        return services;
    }
}
