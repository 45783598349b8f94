using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace Cafetalk.Integrations.Newsletter;

/// <summary>Registers the newsletter flow and the at-rest field protection it shares with other capabilities.</summary>
public static class NewsletterServiceCollectionExtensions
{
    public const string ApiPipelineName = "mail-service-api";

    public static IServiceCollection AddNewsletter(this IServiceCollection services)
    {
        services.AddOptions<FieldProtectionOptions>().BindConfiguration(FieldProtectionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FieldProtectionOptions>, FieldProtectionOptionsValidator>());
        services.AddOptions<NewsletterOptions>().BindConfiguration(NewsletterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NewsletterOptions>, NewsletterOptionsValidator>());
        services.TryAddSingleton<FieldProtector>();
        services.TryAddSingleton<UnsubscribeTokens>();
        services.TryAddSingleton<Http.OneTimeFormTokens>();
        services.TryAddSingleton<UnsubscribeLinks>();
        services.TryAddSingleton<NewsletterSubscriptionStore>();
        services.TryAddSingleton<NewsletterPreferences>();
        services.TryAddSingleton<NewsletterFlow>();
        services.TryAddSingleton<NewsletterSubscriptions>();
        services.TryAddSingleton<MailSuppressionSync>();
        services.TryAddSingleton<SuppressionGroupCheck>();
        // A group id the mail service lacks would turn one click into a global suppression: refuse to start.
        services.AddHostedService<SuppressionGroupStartupCheck>();
        services.AddOptions<MailServiceOptions>().BindConfiguration(MailServiceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddTransient<MailServiceAuthenticationHandler>();
        // Adding or removing a suppression is idempotent at the service, so any transient failure may be retried.
        services.AddHttpClient<MailServiceClient>().AddProviderPipeline(new ProviderHttpPipeline<MailServiceOptions>
        {
            Recipient = DisclosurePolicy.MailService,
            Name = ApiPipelineName,
            BaseAddress = mail => mail.BaseAddress,
            ShouldRetry = (args, _, _) => ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome)),
            Credentials = provider => provider.GetRequiredService<MailServiceAuthenticationHandler>(),
        });
        return services;
    }
}
