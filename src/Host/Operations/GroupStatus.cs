namespace ReaSeq.Host.Operations;

/// <summary>One row of `reaseq status`: a consumer group as its members' metrics (and the broker) report it.</summary>
public sealed record GroupStatus(
    string Role,
    string Group,
    int Instances,
    int Partitions,
    long? Lag,
    long? BrokerLag,
    double? RecordsPerSecond,
    double RecordsIn,
    double DeadLetters,
    string DeadLetterClasses,
    string Models,
    bool Stalled);
