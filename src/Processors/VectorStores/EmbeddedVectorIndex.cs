using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReaSeq.Contracts.Stores;

namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// In-process exact cosine index, the default <see cref="IVectorStore"/>. Vectors are normalised on the way in and
/// kept in one row-major float array, so cosine similarity is a dot product. Unfiltered queries (one or a batch) are
/// a blocked matrix product over all rows: by default first on a 7-bit copy of the rows, whose error bound tells
/// which rows can still be in each top k, then exactly in float on those rows only (see <see cref="QuantizedCodes"/>);
/// the result equals a full float scan. Filtered queries score only the rows the payload postings select.
/// An approximate (graph) index would trade recall for speed; at ~100k items the exact scan is fast enough.
/// Readers share a reader/writer lock; the file is rewritten atomically on flush, on an interval and on dispose.
/// </summary>
public sealed class EmbeddedVectorIndex : IVectorStore
{
    /// <summary>Rows per block of the matrix product: 128 × 384 floats (192 KB) stay in a core's L2 cache while
    /// every query of the batch passes over them.</summary>
    private const int BlockRows = 128;

    /// <summary>Below this many multiply-adds a second thread costs more to start than it saves.</summary>
    private const long ParallelWorkThreshold = 8L << 20;

    /// <summary>Rows per block of the quantised scan: 512 × 384 bytes (192 KB), the same cache footprint.</summary>
    private const int CodeBlockRows = 512;

    private readonly EmbeddedVectorIndexOptions _options;
    private readonly ILogger _logger;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly Dictionary<string, int> _rowById = new(StringComparer.Ordinal);
    private readonly PayloadPostings _postings = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _periodicFlush = Task.CompletedTask;
    private readonly QuantizedCodes? _codes;
    private float[] _vectors;
    private string[] _ids;
    private IReadOnlyDictionary<string, string>[] _payloads;
    private int _count;
    private long _version;
    private long _flushedVersion = -1;
    private int _disposed;

    public EmbeddedVectorIndex(EmbeddedVectorIndexOptions options, ILogger<EmbeddedVectorIndex>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        Dimension = options.Dimension;
        _vectors = new float[(long)options.InitialCapacity * Dimension];
        _ids = new string[options.InitialCapacity];
        _payloads = new IReadOnlyDictionary<string, string>[options.InitialCapacity];
        if (options.QuantizedCandidateSearch && QuantizedCodes.IsSupported)
        {
            _codes = new QuantizedCodes(Dimension, options.InitialCapacity);
        }

        if (options.Path is not null && File.Exists(options.Path))
        {
            Load(options.Path);
            _flushedVersion = _version;
        }

        if (options.FlushInterval is { } interval)
        {
            _periodicFlush = FlushPeriodicallyAsync(interval);
        }
    }

    public int Dimension { get; }

    public VectorDistance Distance => VectorDistance.Cosine;

    public Task UpsertAsync(IReadOnlyList<VectorPoint> points, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        // Validate the whole batch first so a bad point leaves the index untouched.
        foreach (var point in points)
        {
            VectorStoreGuards.ValidatePoint(point, Dimension);
        }

        _lock.EnterWriteLock();
        try
        {
            foreach (var point in points)
            {
                if (_rowById.TryGetValue(point.Id, out int row))
                {
                    _postings.Remove(_payloads[row], row);
                }
                else
                {
                    EnsureCapacity(_count + 1);
                    row = _count++;
                    _rowById[point.Id] = row;
                    _ids[row] = point.Id;
                }

                var unitVector = _vectors.AsSpan(row * Dimension, Dimension);
                DotProductKernels.Normalize(point.Vector, unitVector);
                _codes?.Set(row, unitVector);
                var payload = new Dictionary<string, string>(point.Payload, StringComparer.Ordinal).AsReadOnly();
                _payloads[row] = payload;
                _postings.Add(payload, row);
            }

            _version++;
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<VectorHit>> SearchAsync(
        ReadOnlyMemory<float> query, int limit, PayloadFilter? filter = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Search([new VectorQuery(query, limit, filter)])[0]);
    }

    public Task<IReadOnlyList<IReadOnlyList<VectorHit>>> SearchBatchAsync(
        IReadOnlyList<VectorQuery> queries, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Search(queries));
    }

    /// <summary>Synchronous batched search (the async methods wrap it: the work is CPU-bound and never waits).</summary>
    public IReadOnlyList<IReadOnlyList<VectorHit>> Search(IReadOnlyList<VectorQuery> queries)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ThrowIfDisposed();
        var unfiltered = new List<int>(queries.Count);
        for (int i = 0; i < queries.Count; i++)
        {
            var query = queries[i] ?? throw new ArgumentNullException(nameof(queries), $"Query {i} is null.");
            VectorStoreGuards.ValidateQuery(query.Vector.Span, query.Limit, query.Filter, Dimension);
            if (query.Filter is null || query.Filter.MustEqual.Count == 0)
            {
                unfiltered.Add(i);
            }
        }

        // Unfiltered queries go through the matrix product together; their matrix is built outside the lock.
        var queryMatrix = new float[unfiltered.Count * Dimension];
        for (int j = 0; j < unfiltered.Count; j++)
        {
            DotProductKernels.Normalize(queries[unfiltered[j]].Vector.Span, queryMatrix.AsSpan(j * Dimension, Dimension));
        }

        var results = new IReadOnlyList<VectorHit>[queries.Count];
        _lock.EnterReadLock();
        try
        {
            if (unfiltered.Count > 0)
            {
                var limits = unfiltered.Select(i => queries[i].Limit).ToArray();
                var heaps = ScanAllRows(queryMatrix, limits);
                for (int j = 0; j < unfiltered.Count; j++)
                {
                    results[unfiltered[j]] = ToHits(heaps[j]);
                }
            }

            var normalized = new float[Dimension];
            for (int i = 0; i < queries.Count; i++)
            {
                if (results[i] is null)
                {
                    DotProductKernels.Normalize(queries[i].Vector.Span, normalized);
                    results[i] = SearchFiltered(normalized, queries[i].Limit, queries[i].Filter!);
                }
            }
        }
        finally
        {
            _lock.ExitReadLock();
        }

        return results;
    }

    public Task<VectorPoint?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        _lock.EnterReadLock();
        try
        {
            if (!_rowById.TryGetValue(id, out int row))
            {
                return Task.FromResult<VectorPoint?>(null);
            }

            var vector = _vectors.AsSpan(row * Dimension, Dimension).ToArray();
            return Task.FromResult<VectorPoint?>(new VectorPoint(id, vector, _payloads[row]));
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    public Task DeleteAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        _lock.EnterWriteLock();
        try
        {
            foreach (var id in ids)
            {
                if (id is not null && _rowById.Remove(id, out int row))
                {
                    RemoveRow(row);
                    _version++;
                }
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }

        return Task.CompletedTask;
    }

    public Task<long> CountAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
        _lock.EnterReadLock();
        try
        {
            return Task.FromResult((long)_count);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <summary>Writes the index file if anything changed since the last write (no-op without a Path).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _periodicFlush.ConfigureAwait(false);
        try
        {
            await FlushCoreAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _stopping.Dispose();
            _flushGate.Dispose();
            _lock.Dispose();
        }
    }

    private int PartitionCount(int rowCount, int queryCount)
    {
        long work = (long)rowCount * queryCount * Dimension;
        return work < ParallelWorkThreshold
            ? 1
            : Math.Max(1, Math.Min(_options.MaxDegreeOfParallelism, (rowCount + BlockRows - 1) / BlockRows));
    }

    private TopKHeap[] ScanAllRows(float[] queryMatrix, int[] limits)
    {
        if (_count == 0)
        {
            return limits.Select(_ => new TopKHeap(0)).ToArray();
        }

        return _codes is null ? ScanAllRowsExactly(queryMatrix, limits) : ScanCandidatesThenRescore(_codes, queryMatrix, limits);
    }

    /// <summary>Two stages: bounds from the 7-bit codes pick the rows that can be in each top k, then those rows are
    /// scored in float with the same kernel as the full scan, so the result equals the full scan's.</summary>
    private TopKHeap[] ScanCandidatesThenRescore(QuantizedCodes codes, float[] queryMatrix, int[] limits)
    {
        int queryCount = limits.Length;
        int rowCount = _count;
        var queryCodes = new QuantizedCodes.QueryCode[queryCount];
        for (int q = 0; q < queryCount; q++)
        {
            queryCodes[q] = new QuantizedCodes.QueryCode(queryMatrix.AsSpan(q * Dimension, Dimension), codes.Stride);
        }

        int partitions = PartitionCount(rowCount, queryCount);
        var partitionCollectors = new QuantizedCodes.CandidateCollector[partitions][];
        void CollectPartition(int partition)
        {
            int start = (int)((long)rowCount * partition / partitions);
            int end = (int)((long)rowCount * (partition + 1) / partitions);
            var collectors = limits.Select(limit => new QuantizedCodes.CandidateCollector(Math.Min(limit, rowCount))).ToArray();
            codes.CollectCandidates(start, end, queryCodes, collectors, CodeBlockRows);
            partitionCollectors[partition] = collectors;
        }

        if (partitions == 1)
        {
            CollectPartition(0);
        }
        else
        {
            Parallel.For(0, partitions, new ParallelOptions { MaxDegreeOfParallelism = partitions }, CollectPartition);
            for (int partition = 1; partition < partitions; partition++)
            {
                for (int q = 0; q < queryCount; q++)
                {
                    partitionCollectors[0][q].MergeFrom(partitionCollectors[partition][q]);
                }
            }
        }

        var heaps = new TopKHeap[queryCount];
        for (int q = 0; q < queryCount; q++)
        {
            heaps[q] = new TopKHeap(Math.Min(limits[q], rowCount));
            var candidates = partitionCollectors[0][q].FinalCandidates().ToArray();
            OfferExactScores(heaps[q], candidates, queryMatrix.AsSpan(q * Dimension, Dimension));
        }

        return heaps;
    }

    private TopKHeap[] ScanAllRowsExactly(float[] queryMatrix, int[] limits)
    {
        int queryCount = limits.Length;
        int rowCount = _count;
        var vectors = _vectors;
        int partitions = PartitionCount(rowCount, queryCount);

        // Each partition scans a contiguous range of rows with its own heaps; the heaps are merged at the end.
        var partitionHeaps = new TopKHeap[partitions][];
        void ScanPartition(int partition)
        {
            int start = (int)((long)rowCount * partition / partitions);
            int end = (int)((long)rowCount * (partition + 1) / partitions);
            var heaps = new TopKHeap[queryCount];
            for (int q = 0; q < queryCount; q++)
            {
                heaps[q] = new TopKHeap(Math.Min(limits[q], rowCount));
            }

            var scores = new float[queryCount * BlockRows];
            for (int blockStart = start; blockStart < end; blockStart += BlockRows)
            {
                int blockEnd = Math.Min(blockStart + BlockRows, end);
                int blockRows = blockEnd - blockStart;
                DotProductKernels.ScoreBlock(vectors, blockStart, blockEnd, queryMatrix, queryCount, Dimension, scores);
                for (int q = 0; q < queryCount; q++)
                {
                    heaps[q].OfferRange(scores.AsSpan(q * blockRows, blockRows), blockStart);
                }
            }

            partitionHeaps[partition] = heaps;
        }

        if (partitions == 1)
        {
            ScanPartition(0);
        }
        else
        {
            Parallel.For(0, partitions, new ParallelOptions { MaxDegreeOfParallelism = partitions }, ScanPartition);
            for (int partition = 1; partition < partitions; partition++)
            {
                for (int q = 0; q < queryCount; q++)
                {
                    partitionHeaps[0][q].MergeFrom(partitionHeaps[partition][q]);
                }
            }
        }

        return partitionHeaps[0];
    }

    private IReadOnlyList<VectorHit> SearchFiltered(float[] query, int limit, PayloadFilter filter)
    {
        var rows = _postings.Match(filter.MustEqual);
        if (rows.Length == 0)
        {
            return [];
        }

        var heap = new TopKHeap(Math.Min(limit, rows.Length));
        OfferExactScores(heap, rows, query);
        return ToHits(heap);
    }

    private void OfferExactScores(TopKHeap heap, int[] rows, ReadOnlySpan<float> query)
    {
        // Ascending rows read the vector array front to back, which the hardware prefetcher follows.
        Array.Sort(rows);
        var scores = new float[rows.Length];
        DotProductKernels.ScoreGathered(_vectors, rows, query, scores);
        for (int i = 0; i < rows.Length; i++)
        {
            heap.Offer(scores[i], rows[i]);
        }
    }

    private List<VectorHit> ToHits(TopKHeap heap)
    {
        var hits = heap.Items().Select(item => new VectorHit(_ids[item.Row], item.Score, _payloads[item.Row])).ToList();
        // Equal scores are ordered by id so results do not depend on row positions.
        hits.Sort((a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Id, b.Id));
        return hits;
    }

    /// <summary>Swap-remove: the last row moves into the hole so the array stays dense.</summary>
    private void RemoveRow(int row)
    {
        _postings.Remove(_payloads[row], row);
        int last = _count - 1;
        if (row != last)
        {
            _vectors.AsSpan(last * Dimension, Dimension).CopyTo(_vectors.AsSpan(row * Dimension, Dimension));
            _codes?.Move(last, row);
            _ids[row] = _ids[last];
            _payloads[row] = _payloads[last];
            _rowById[_ids[row]] = row;
            _postings.Move(_payloads[row], last, row);
        }

        _ids[last] = null!;
        _payloads[last] = null!;
        _count = last;
    }

    private void EnsureCapacity(int rows)
    {
        if (rows <= _ids.Length)
        {
            return;
        }

        int capacity = Math.Max(rows, _ids.Length * 2);
        if ((long)capacity * Dimension > Array.MaxLength)
        {
            throw new InvalidOperationException($"The embedded index cannot hold more than {Array.MaxLength / Dimension} vectors of dimension {Dimension}.");
        }

        Array.Resize(ref _vectors, capacity * Dimension);
        Array.Resize(ref _ids, capacity);
        Array.Resize(ref _payloads, capacity);
        _codes?.Resize(capacity);
    }

    private void Load(string path)
    {
        var contents = VectorIndexFile.Read(path);
        if (contents.Dimension != Dimension)
        {
            throw new InvalidDataException(
                $"Vector index file '{path}' holds {contents.Dimension}-dimensional vectors but the index is configured for {Dimension}.");
        }

        int capacity = Math.Max(contents.Count, _options.InitialCapacity);
        _vectors = contents.Vectors.Length >= capacity * Dimension ? contents.Vectors : Grow(contents.Vectors, capacity * Dimension);
        _ids = new string[capacity];
        _payloads = new IReadOnlyDictionary<string, string>[capacity];
        _codes?.Resize(capacity);
        for (int row = 0; row < contents.Count; row++)
        {
            _codes?.Set(row, _vectors.AsSpan(row * Dimension, Dimension));
            if (!_rowById.TryAdd(contents.Ids[row], row))
            {
                throw new InvalidDataException($"Vector index file '{path}' cannot be loaded: id '{contents.Ids[row]}' appears twice.");
            }

            _ids[row] = contents.Ids[row];
            _payloads[row] = new Dictionary<string, string>(contents.Payloads[row], StringComparer.Ordinal).AsReadOnly();
            _postings.Add(_payloads[row], row);
        }

        _count = contents.Count;
    }

    private static float[] Grow(float[] array, int length)
    {
        Array.Resize(ref array, length);
        return array;
    }

    private async Task FlushCoreAsync(CancellationToken cancellationToken)
    {
        if (_options.Path is not { } path)
        {
            return;
        }

        await _flushGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The write is synchronous file I/O under the read lock (which has thread affinity): run it off the caller.
            await Task.Run(() => WriteFileIfChanged(path), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushGate.Release();
        }
    }

    private void WriteFileIfChanged(string path)
    {
        _lock.EnterReadLock();
        try
        {
            if (_version == _flushedVersion && File.Exists(path))
            {
                return;
            }

            VectorIndexFile.Write(path, Dimension, _count, _vectors, _ids, _payloads);
            _flushedVersion = _version;
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    private async Task FlushPeriodicallyAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await FlushCoreAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                {
                    // Keep serving; the next tick, an explicit flush or dispose retries and surfaces the error.
                    _logger.LogError(error, "Periodic write of vector index file {Path} failed", _options.Path);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
}
