namespace ReaSeq.Api.Dto;

/// <summary>One observed click of the window.</summary>
public sealed record WindowEntryView(int Position, string ItemId, long TsMs, string Category);
