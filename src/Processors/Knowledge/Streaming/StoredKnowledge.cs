using ReaSeq.Contracts;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>A knowledge row with what only PostgreSQL keeps: the encoder's base vector and the adapter version of its vector.</summary>
public sealed record StoredKnowledge(ItemKnowledge Record, float[] BaseVector, string AdapterVersion);
