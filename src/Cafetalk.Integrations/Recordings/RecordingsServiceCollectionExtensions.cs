using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Cafetalk.Integrations.Recordings;

/// <summary>Registers the recording archive (Zoom's cloud recordings to Vimeo, and their deletion); needs AddZoom and AddVimeo.</summary>
public static class RecordingsServiceCollectionExtensions
{
    public static IServiceCollection AddRecordingArchive(this IServiceCollection services)
    {
        services.TryAddTransient<RecordingArchiver>();
        services.TryAddTransient<RecordingDeleter>();
        services.TryAddTransient<RecordingEventsHandler>();
        services.TryAddTransient<RecordingConvergeHandler>();
        return services;
    }
}
