namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// Keeps the k best (score, row) pairs seen so far in a bounded min-heap: the root is the weakest kept
/// score, so a candidate that cannot enter is rejected with one comparison.
/// </summary>
internal sealed class TopKHeap
{
    private readonly float[] _scores;
    private readonly int[] _rows;

    public TopKHeap(int capacity)
    {
        _scores = new float[capacity];
        _rows = new int[capacity];
    }

    public int Count { get; private set; }

    public int Capacity => _scores.Length;

    /// <summary>Score a candidate must beat to enter once the heap is full.</summary>
    public float Threshold => Count < _scores.Length ? float.NegativeInfinity
        : _scores.Length == 0 ? float.PositiveInfinity : _scores[0];

    public void Offer(float score, int row)
    {
        if (Count < _scores.Length)
        {
            int index = Count++;
            _scores[index] = score;
            _rows[index] = row;
            SiftUp(index);
        }
        else if (_scores.Length > 0 && score > _scores[0])
        {
            _scores[0] = score;
            _rows[0] = row;
            SiftDown(0);
        }
    }

    /// <summary>Offers scores[i] for row rowStart + i, skipping the heap for scores below the threshold.</summary>
    public void OfferRange(ReadOnlySpan<float> scores, int rowStart)
    {
        float threshold = Threshold;
        for (int i = 0; i < scores.Length; i++)
        {
            if (scores[i] > threshold)
            {
                Offer(scores[i], rowStart + i);
                threshold = Threshold;
            }
        }
    }

    public void MergeFrom(TopKHeap other)
    {
        for (int i = 0; i < other.Count; i++)
        {
            Offer(other._scores[i], other._rows[i]);
        }
    }

    /// <summary>The kept pairs in no particular order.</summary>
    public IEnumerable<(float Score, int Row)> Items()
    {
        for (int i = 0; i < Count; i++)
        {
            yield return (_scores[i], _rows[i]);
        }
    }

    private void SiftUp(int index)
    {
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (_scores[parent] <= _scores[index])
            {
                return;
            }

            Swap(parent, index);
            index = parent;
        }
    }

    private void SiftDown(int index)
    {
        while (true)
        {
            int left = 2 * index + 1;
            if (left >= Count)
            {
                return;
            }

            int smallest = left + 1 < Count && _scores[left + 1] < _scores[left] ? left + 1 : left;
            if (_scores[index] <= _scores[smallest])
            {
                return;
            }

            Swap(index, smallest);
            index = smallest;
        }
    }

    private void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_rows[a], _rows[b]) = (_rows[b], _rows[a]);
    }
}
