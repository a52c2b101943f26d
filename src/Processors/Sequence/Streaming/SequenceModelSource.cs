namespace ReaSeq.Processors.Sequence.Streaming;

public enum SequenceModelSource
{
    Partition,
    Global,
}
