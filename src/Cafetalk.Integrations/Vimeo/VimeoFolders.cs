using Azure;
using Azure.Data.Tables;
using Cafetalk.Integrations.Disclosure;
using Cafetalk.Integrations.Storage;

namespace Cafetalk.Integrations.Vimeo;

/// <summary>
/// One Vimeo folder (project) per lecturer, named by an opaque lecturer reference. Table <c>VimeoFolders</c>
/// (PartitionKey lecturerId, RowKey <c>folder</c>) remembers its id; without a row the folder is looked for by name
/// through every page of GET /me/projects (it has no name filter) before one is created, so a lost row never makes
/// a second folder.
/// </summary>
public sealed class VimeoFolders(StorageAccount storage, VimeoClient vimeo, RecordingReferences references, RecordingDisclosures disclosures)
{
    internal const string RowKey = "folder";
    internal const string FolderIdColumn = "FolderId";

    private static readonly string[] PageFields = ["query:page", "query:per_page"];
    private static readonly string[] CreateFields = ["name"];
    private static readonly string[] DeleteFields = ["path:projectId", "query:should_delete_clips"];

    private TableClient Table => storage.Table(TableNames.VimeoFolders);

    /// <summary>The lecturer's folder id, found or created.</summary>
    public async Task<string> ResolveAsync(RecordingParties parties, string correlationId, CancellationToken cancellationToken = default)
    {
        if (await FindIdAsync(parties.LecturerId, cancellationToken) is { } known)
        {
            return known;
        }

        var name = references.ForLecturer(parties.LecturerId);
        var lecturerOnly = parties with { StudentId = string.Empty };
        VimeoItem? found = null;
        for (var page = 1; found is null; page++)
        {
            // Page numbers carry no personal data: no ledger row, only the gate.
            var listed = await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLecturerFolder, "look-up", lecturerOnly, PageFields, null, correlationId,
                context => vimeo.ListFoldersAsync(page, context, cancellationToken), _ => null, cancellationToken);
            found = listed.Items.FirstOrDefault(f => f.Name == name && f.Id is not null);
            if (!listed.HasNext)
            {
                break;
            }
        }

        var folder = found ?? await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLecturerFolder, "create", lecturerOnly, CreateFields, null, correlationId,
            context => vimeo.CreateFolderAsync(name, context, cancellationToken), item => item.Id, cancellationToken);
        await Table.UpsertEntityAsync(new TableEntity(parties.LecturerId, RowKey) { [FolderIdColumn] = folder.Id }, TableUpdateMode.Replace, cancellationToken);
        return folder.Id!;
    }

    /// <summary>Deletes the lecturer's folder (not its videos: those are deleted one by one); false when there was none.</summary>
    public async Task<bool> DeleteAsync(string lecturerId, string correlationId, CancellationToken cancellationToken = default)
    {
        if (await FindIdAsync(lecturerId, cancellationToken) is not { } folderId)
        {
            return false;
        }

        await disclosures.DiscloseAsync(DisclosurePolicy.PurposeIds.VimeoLecturerFolder, "delete", new RecordingParties(string.Empty, lecturerId, string.Empty), DeleteFields, folderId, correlationId,
            context => vimeo.DeleteFolderAsync(folderId, context, cancellationToken), _ => folderId, cancellationToken);
        await Table.DeleteEntityAsync(lecturerId, RowKey, ETag.All, cancellationToken);
        return true;
    }

    private async Task<string?> FindIdAsync(string lecturerId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(lecturerId, RowKey, cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.GetString(FolderIdColumn) is { Length: > 0 } id ? id : null;
    }
}
