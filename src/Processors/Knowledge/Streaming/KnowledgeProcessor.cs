using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using ReaSeq.Contracts;
using ReaSeq.Contracts.Serialization;
using ReaSeq.Contracts.Stores;
using ReaSeq.Contracts.Validation;
using ReaSeq.Ingestors.Streaming;
using ReaSeq.Processors.Knowledge.Agents;

namespace ReaSeq.Processors.Knowledge.Streaming;

/// <summary>
/// reaseq.item-updates → reaseq.item-knowledge (paper §2.1). Per batch: decode and validate (bad records are
/// dead-lettered), skip items whose content hash equals the stored one, run layer 3 (layers 1-2 come from the
/// taxonomy cache) for the rest in parallel, write vectors to the vector store, publish ItemKnowledge and flush,
/// then store the knowledge rows and the offsets in one PostgreSQL transaction. A replayed batch re-publishes
/// identical records (same key, content and ts_ms — the update's), and once committed an unchanged item is never
/// published again. Within a batch only the newest update of an item is reasoned about (latest wins).
/// </summary>
public sealed class KnowledgeProcessor : IBatchHandler, IDisposable
{
    public const string AgentOutputErrorClass = "agent_output";
    public const string NoCategoryErrorClass = "no_category";

    private readonly AvroSerde<ItemUpdate> _updateSerde;
    private readonly AvroSerde<ItemKnowledge> _knowledgeSerde;
    private readonly ContractValidator _validator;
    private readonly DeadLetterPublisher _deadLetters;
    private readonly KnowledgeReasoner _reasoner;
    private readonly PostgresCategoryCorpus _corpus;
    private readonly PostgresKnowledgeStore _store;
    private readonly IVectorStore _vectors;
    private readonly SemanticIdModelHolder _semanticIds;
    private readonly IuiAdapterHolder _adapter;
    private readonly KnowledgeOutputGate _gate;
    private readonly KnowledgeProcessorStats _stats;
    private readonly KnowledgeProcessorOptions _options;
    private readonly KafkaOptions _kafkaOptions;
    private readonly ILogger<KnowledgeProcessor> _logger;
    private readonly ContractProducer _producer;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Topic, int Partition), long> _epochs = new();
    private volatile bool _vectorStoreChecked;

    public KnowledgeProcessor(AvroSerde<ItemUpdate> updateSerde, AvroSerde<ItemKnowledge> knowledgeSerde, ContractValidator validator,
        IKafkaClientSupplier kafka, DeadLetterPublisher deadLetters, KnowledgeReasoner reasoner, PostgresCategoryCorpus corpus,
        PostgresKnowledgeStore store, IVectorStore vectors, SemanticIdModelHolder semanticIds, IuiAdapterHolder adapter, KnowledgeOutputGate gate,
        KnowledgeProcessorStats stats, KnowledgeProcessorOptions options, KafkaOptions kafkaOptions, ILogger<KnowledgeProcessor> logger)
    {
        _adapter = adapter;
        _updateSerde = updateSerde;
        _knowledgeSerde = knowledgeSerde;
        _validator = validator;
        _deadLetters = deadLetters;
        _reasoner = reasoner;
        _corpus = corpus;
        _store = store;
        _vectors = vectors;
        _semanticIds = semanticIds;
        _gate = gate;
        _stats = stats;
        _options = options;
        _kafkaOptions = kafkaOptions;
        _logger = logger;
        _producer = new ContractProducer(kafka, "reaseq-knowledge");
    }

    public string Name => "knowledge";

    public IReadOnlyList<string> Topics { get; } = [Contracts.Topics.ItemUpdates];

    public int? MaxBatchSize => _options.MaxBatchItems;

    private string Group => $"{_kafkaOptions.GroupPrefix}.{Name}";

    public KnowledgeProcessorStats Stats => _stats;

    public IReadOnlyDictionary<TopicPartition, long> OnAssigned(IReadOnlyCollection<TopicPartition> partitions)
    {
        // All state lives in PostgreSQL (looked up per batch), so only the resume points are loaded; claiming them fences
        // a previous owner still finishing a batch (issue 8 B5).
        var claimed = _store.ClaimOffsetsAsync(Group, partitions.Select(p => (p.Topic, p.Partition.Value)).ToList(), CancellationToken.None)
            .GetAwaiter().GetResult();
        foreach (var c in claimed) _epochs[(c.Topic, c.Partition)] = c.OwnerEpoch;
        return claimed.ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.NextOffset);
    }

    public void OnRevoked(IReadOnlyCollection<TopicPartition> partitions)
    {
        foreach (var p in partitions) _epochs.TryRemove((p.Topic, p.Partition.Value), out _);
    }

    public async Task HandleBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        if (!_vectorStoreChecked) await RestoreVectorStoreAsync(ct);
        // Follow the deployment's current models (the leader may have published new ones; issue 8 D14).
        await _semanticIds.SyncAsync(ct);
        await _adapter.SyncAsync(ct);

        var next = new Dictionary<(string, int), long>();
        var deliveries = new DeliveryTracker();
        // The newest valid update per item, in offset order (an item's updates share a partition: keyed by item id).
        var latest = new Dictionary<string, (ConsumeResult<byte[]?, byte[]?> Source, ItemUpdate Update, KnowledgeItem? Item)>(StringComparer.Ordinal);
        long deadLettered = 0, superseded = 0;
        foreach (var result in batch)
        {
            next[(result.Topic, result.Partition.Value)] = result.Offset.Value + 1;
            try
            {
                var value = result.Message.Value;
                if (value is not null && value.Length > _kafkaOptions.MaxRecordBytes)
                    throw new ContractException(ErrorClasses.Validation, $"record is {value.Length} bytes, limit {_kafkaOptions.MaxRecordBytes}");
                var update = _updateSerde.Deserialize(value);
                _validator.Validate(update);
                var item = update.Op == ItemOp.DELETE ? null : ToKnowledgeItem(update);
                if (latest.Remove(update.ItemId)) superseded++;
                latest[update.ItemId] = (result, update, item);
            }
            catch (ContractException e)
            {
                _deadLetters.Publish(deliveries, result, Name, e);
                deadLettered++;
            }
        }

        var deleted = latest.Values.Where(v => v.Item is null).Select(v => v.Update.ItemId).ToList();
        var candidates = latest.Values.Where(v => v.Item is not null).ToList();
        var stored = await _store.LoadDerivationsAsync(candidates.Select(c => c.Update.ItemId).ToList(), ct);
        var hashes = candidates.ToDictionary(c => c.Update.ItemId, c => _reasoner.KnowledgeHash(c.Item!), StringComparer.Ordinal);
        var changed = new List<(ConsumeResult<byte[]?, byte[]?> Source, ItemUpdate Update, KnowledgeItem? Item)>();
        long retaxonomised = 0;
        foreach (var candidate in candidates)
        {
            if (!stored.TryGetValue(candidate.Update.ItemId, out var derivation) || derivation.ContentHash != hashes[candidate.Update.ItemId])
            {
                changed.Add(candidate);
            }
            else if (await TaxonomyRebuiltSinceAsync(derivation, ct))
            {
                changed.Add(candidate); // E17: re-reasoned lazily, as its next update arrives
                retaxonomised++;
            }
        }
        long unchanged = candidates.Count - changed.Count + superseded;

        // Layers 1-2 may need these items before the ingest role has written them to the catalog.
        _corpus.Upsert(changed.Select(c => c.Item!));
        foreach (var id in deleted) _corpus.Remove(id);

        var results = new ItemKnowledgeResult?[changed.Count];
        var failures = new (string ErrorClass, string Message)?[changed.Count];
        // AgentUnavailableException is not caught: the batch fails and the consumer loop retries it after a back-off.
        await Parallel.ForEachAsync(Enumerable.Range(0, changed.Count),
            new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = ct },
            async (i, token) =>
            {
                try
                {
                    results[i] = await _reasoner.AnalyzeItemAsync(changed[i].Item!, token);
                }
                catch (AgentOutputException e)
                {
                    failures[i] = (AgentOutputErrorClass, $"{e.Reason}: {e.Message}");
                }
                catch (InvalidOperationException e) when (changed[i].Item!.CategoryPath.IsEmpty)
                {
                    // No categorised item exists yet to classify against: retrying the batch cannot help. (A categorised
                    // item always has a corpus: the overlay holds the item itself.)
                    failures[i] = (NoCategoryErrorClass, e.Message);
                }
            });

        var records = new List<ItemKnowledge>();
        var sources = new List<ConsumeResult<byte[]?, byte[]?>>();
        for (int i = 0; i < changed.Count; i++)
        {
            if (failures[i] is { } failure)
            {
                _deadLetters.Publish(deliveries, changed[i].Source, Name, failure.ErrorClass, failure.Message);
                deadLettered++;
                continue;
            }
            var record = ToContract(results[i]!, changed[i].Update.TsMs);
            // The hash of the update as received: the reasoner hashes a classified item with its assigned category,
            // which would never match the next (still uncategorised) update of it.
            record.ContentHash = hashes[record.ItemId];
            records.Add(record);
            sources.Add(changed[i].Source);
        }
        var derived = new Dictionary<string, (float[] Base, string AdapterVersion)>(StringComparer.Ordinal);
        if (records.Count > 0)
        {
            // With the IUI switch on, the adapted vector is the item's vector everywhere downstream (§4.1.1); the
            // encoder's base vector is kept beside it in PostgreSQL.
            var bases = records.Select(r => r.Vector.ToArray()).ToList();
            var (adapted, adapterVersion) = _adapter.Adapt(bases);
            for (int i = 0; i < records.Count; i++)
            {
                records[i].Vector = [.. adapted[i]];
                derived[records[i].ItemId] = (bases[i], adapterVersion);
            }
            var (ids, version) = await _semanticIds.AssignAsync(records.Select(r => r.ItemId).ToList(), adapted, ct);
            for (int i = 0; i < records.Count; i++)
            {
                records[i].SemanticId = [.. ids[i]];
                records[i].SemanticIdVersion = version;
            }
            await _vectors.UpsertAsync(records.Select(ToPoint).ToList(), ct);
        }
        if (deleted.Count > 0) await _vectors.DeleteAsync(deleted, ct);

        using (await _gate.EnterAsync(ct))
        {
            // Outputs first, then the state commit: a crash in between replays the batch and re-publishes identical records.
            // Every output and dead letter of the batch must be delivered: one that is not fails the batch (it is retried
            // from its records; nothing of it committed).
            foreach (var record in records)
                _producer.ProduceRaw(_options.OutputTopic, Encoding.UTF8.GetBytes(record.ItemId), _knowledgeSerde.Serialize(record), deliveries);
            await deliveries.WaitAsync(ct);
            var offsets = next.Select(kv => new PartitionOffset(kv.Key.Item1, kv.Key.Item2, kv.Value) { OwnerEpoch = _epochs.GetValueOrDefault(kv.Key) }).ToList();
            await _store.CommitAsync(Group, records, deleted, offsets, ct, derived);
        }

        _stats.AddPublished(records.Count);
        _stats.AddUnchanged(unchanged);
        _stats.AddRetaxonomised(retaxonomised);
        _stats.AddDeadLettered(deadLettered);
        _stats.AddDeleted(deleted.Count);
        _stats.AddCategoryAssigned(records.Count(r => r.CategoryAssigned));
        _stats.AddRejectedEvidence(results.Where(r => r is not null).Sum(r => (long)r!.RejectedEvidence));
        _stats.AddConsumed(batch.Count);
        if (records.Count > 0 || deadLettered > 0)
        {
            _logger.LogInformation("knowledge: batch of {Count}: {Published} published, {Unchanged} unchanged, {DeadLettered} dead-lettered, {Deleted} deleted",
                batch.Count, records.Count, unchanged, deadLettered, deleted.Count);
        }
    }

    /// <summary>
    /// Whether the taxonomy an unchanged item was reasoned under has since been succeeded (its category's corpus grew,
    /// E17). A taxonomy that cannot be built right now keeps the stored knowledge; the next update looks again.
    /// </summary>
    private async Task<bool> TaxonomyRebuiltSinceAsync(PostgresKnowledgeStore.StoredDerivation stored, CancellationToken ct)
    {
        if (stored.Category.Length == 0) return false;
        var category = CategoryPath.Of(stored.Category.Split(" > "));
        try
        {
            return await _reasoner.CurrentTaxonomyVersionAsync(category, ct) != stored.TaxonomyVersion;
        }
        catch (AgentOutputException)
        {
            return false;
        }
    }

    /// <summary>The item as the agents see it; blank category segments are a contract violation.</summary>
    public static KnowledgeItem ToKnowledgeItem(ItemUpdate update)
    {
        try
        {
            return new KnowledgeItem(update.ItemId, update.Title, update.Description, update.CategoryPath, update.Attributes);
        }
        catch (ArgumentException e)
        {
            throw new ContractException(ErrorClasses.Validation, $"item {update.ItemId}: {e.Message}");
        }
    }

    /// <summary>The ItemKnowledge record of a reasoning result, without semantic id. ts_ms is the item update's.</summary>
    public static ItemKnowledge ToContract(ItemKnowledgeResult result, long tsMs) => new()
    {
        ItemId = result.ItemId,
        ContentHash = result.ContentHash,
        Category = result.Category.ToString(),
        CategoryAssigned = result.CategoryInferred,
        Demand = result.DemandDimensions.Select(ToContract).ToList(),
        Attribute = result.AttributeDimensions.Select(ToContract).ToList(),
        Vector = [.. result.Vector],
        SemanticIdVersion = "",
        TaxonomyVersion = result.TaxonomyVersion,
        PromptVersion = result.PromptVersion,
        Backend = result.BackendName,
        Encoder = result.EncoderModel,
        TsMs = tsMs,
    };

    private static KnowledgeDimension ToContract(DimensionKnowledge d) => new()
    {
        Label = d.Label,
        Keywords = [.. d.Keywords],
        Evidence = [.. d.Evidence],
        Analysis = d.Analysis,
    };

    /// <summary>The vector-store point of a record; its payload names the exact vector (vector_hash) for the repair.</summary>
    public static VectorPoint ToPoint(ItemKnowledge record) => new(record.ItemId, record.Vector.ToArray(),
        new Dictionary<string, string>
        {
            ["item_id"] = record.ItemId,
            ["category"] = record.Category,
            ["content_hash"] = record.ContentHash,
            [VectorHashKey] = VectorHash(record.Vector),
        });

    public const string VectorHashKey = "vector_hash";

    /// <summary>First 16 hex digits of the SHA-256 of the vector's float32 bytes.</summary>
    public static string VectorHash(IReadOnlyList<float> vector)
    {
        var values = vector.ToArray();
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())))[..16];
    }

    /// <summary>Repairs the vector store from PostgreSQL once, before the first batch (see <see cref="VectorStoreRepair"/>).</summary>
    private async Task RestoreVectorStoreAsync(CancellationToken ct)
    {
        await new VectorStoreRepair(_store, _vectors, _logger).RunAsync(ct);
        _vectorStoreChecked = true;
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _producer.Dispose(TimeSpan.FromSeconds(5));
    }
}
