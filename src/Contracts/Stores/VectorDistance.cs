namespace ReaSeq.Contracts.Stores;

/// <summary>Similarity a store ranks by. Only cosine is offered: item vectors are compared by direction.</summary>
public enum VectorDistance
{
    Cosine = 1,
}
