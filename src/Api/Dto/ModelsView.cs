namespace ReaSeq.Api.Dto;

/// <summary>GET /v1/models: the version this replica serves and the registry's versions with their metrics.</summary>
public sealed record ModelsView(string ModelName, ServedModelView? Serving, IReadOnlyList<ModelVersionView> Versions);
