using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// Compact copy of the stored unit vectors used to find candidates before exact scoring. Each row x is kept as
/// 7-bit integers X = round(x / s) in [-63, 63] with s = max|x_i| / 63, stored offset by +64 as bytes (a quarter of
/// the float size, so a scan reads 4× less memory). A query q is quantised to 8 bits, Q = round(q / t) in [-127, 127].
/// <para>Error bound (why the search stays exact): x·q = s·t·(X·Q) + s·Σ(q_i − tQ_i)X_i + Σ q_i(x_i − sX_i), so
/// |x·q − s·t·(X·Q)| ≤ s·(t/2·‖X‖₁ + ‖q‖₁/2). A row whose upper bound is below the k-th best lower bound cannot be in
/// the top k; only the remaining candidates are scored exactly in float.</para>
/// Byte × signed-byte products use AVX2 multiply-add (vpmaddubsw: 127·127·2 fits a 16-bit lane, hence 7-bit rows).
/// </summary>
internal sealed class QuantizedCodes
{
    public const int RowLevels = 63;
    public const int QueryLevels = 127;
    private const int Offset = 64;
    private const int Chunk = 32;

    /// <summary>Covers float rounding of the exact scores and of the bound itself.</summary>
    private const float RoundingSlack = 1e-4f;

    private byte[] _codes;
    private float[] _scales;
    private int[] _l1Norms;

    public QuantizedCodes(int dimension, int capacity)
    {
        Dimension = dimension;
        Stride = (dimension + Chunk - 1) / Chunk * Chunk;
        _codes = new byte[(long)capacity * Stride];
        _scales = new float[capacity];
        _l1Norms = new int[capacity];
    }

    /// <summary>True where the byte multiply-add kernels run in hardware; elsewhere the index scans floats.</summary>
    public static bool IsSupported => Avx2.IsSupported;

    public int Dimension { get; }

    /// <summary>Bytes per row: the dimension padded to whole 32-byte chunks (padding encodes 0).</summary>
    public int Stride { get; }

    public void Resize(int capacity)
    {
        Array.Resize(ref _codes, capacity * Stride);
        Array.Resize(ref _scales, capacity);
        Array.Resize(ref _l1Norms, capacity);
    }

    public void Set(int row, ReadOnlySpan<float> unitVector)
    {
        float maxAbs = 0;
        foreach (var component in unitVector)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(component));
        }

        float scale = maxAbs / RowLevels;
        var codes = _codes.AsSpan(row * Stride, Stride);
        codes.Fill(Offset);
        int l1 = 0;
        for (int i = 0; i < unitVector.Length; i++)
        {
            int level = Math.Clamp((int)MathF.Round(unitVector[i] / scale), -RowLevels, RowLevels);
            codes[i] = (byte)(level + Offset);
            l1 += Math.Abs(level);
        }

        _scales[row] = scale;
        _l1Norms[row] = l1;
    }

    public void Move(int fromRow, int toRow)
    {
        _codes.AsSpan(fromRow * Stride, Stride).CopyTo(_codes.AsSpan(toRow * Stride, Stride));
        _scales[toRow] = _scales[fromRow];
        _l1Norms[toRow] = _l1Norms[fromRow];
    }

    /// <summary>A query quantised once and used against every row.</summary>
    internal sealed class QueryCode
    {
        public QueryCode(ReadOnlySpan<float> unitQuery, int stride)
        {
            float maxAbs = 0;
            double l1 = 0;
            foreach (var component in unitQuery)
            {
                maxAbs = Math.Max(maxAbs, Math.Abs(component));
                l1 += Math.Abs(component);
            }

            Scale = maxAbs / QueryLevels;
            Codes = new sbyte[stride];
            int sum = 0;
            for (int i = 0; i < unitQuery.Length; i++)
            {
                int level = Math.Clamp((int)MathF.Round(unitQuery[i] / Scale), -QueryLevels, QueryLevels);
                Codes[i] = (sbyte)level;
                sum += level;
            }

            OffsetCorrection = Offset * sum;
            HalfScale = Scale / 2;
            HalfL1 = (float)(l1 / 2);
        }

        public sbyte[] Codes { get; }

        public float Scale { get; }

        /// <summary>Σ 64·Q_i, removed from the raw product because rows are stored offset by 64.</summary>
        public int OffsetCorrection { get; }

        public float HalfScale { get; }

        public float HalfL1 { get; }
    }

    /// <summary>
    /// Candidate selection for one query over a range of rows: keeps the k best lower bounds and every row whose
    /// upper bound reaches the running k-th lower bound (a superset of the final candidates, since it only rises).
    /// </summary>
    internal sealed class CandidateCollector(int k)
    {
        public TopKHeap LowerBounds { get; } = new(k);

        public List<(int Row, float Upper)> Candidates { get; } = new();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Offer(int row, float approximate, float error)
        {
            float upper = approximate + error;
            if (upper < LowerBounds.Threshold)
            {
                return;
            }

            LowerBounds.Offer(approximate - error, row);
            Candidates.Add((row, upper));
        }

        public void MergeFrom(CandidateCollector other)
        {
            LowerBounds.MergeFrom(other.LowerBounds);
            Candidates.AddRange(other.Candidates);
        }

        /// <summary>Rows that can still be in the top k once every row has been seen.</summary>
        public IEnumerable<int> FinalCandidates()
        {
            float threshold = LowerBounds.Threshold;
            return Candidates.Where(candidate => candidate.Upper >= threshold).Select(candidate => candidate.Row);
        }
    }

    /// <summary>Feeds the bounds of rows [rowStart, rowEnd) for every query into its collector, scoring rows in
    /// blocks that stay in cache while all queries pass over them.</summary>
    public void CollectCandidates(int rowStart, int rowEnd, QueryCode[] queries, CandidateCollector[] collectors, int blockRows)
    {
        var rawProducts = new int[queries.Length * blockRows];
        for (int blockStart = rowStart; blockStart < rowEnd; blockStart += blockRows)
        {
            int blockEnd = Math.Min(blockStart + blockRows, rowEnd);
            int rows = blockEnd - blockStart;
            int query = 0;
            for (; query + 4 <= queries.Length; query += 4)
            {
                RawProductsFourQueries(blockStart, blockEnd, queries, query, rawProducts.AsSpan(query * rows, 4 * rows));
            }

            for (; query < queries.Length; query++)
            {
                RawProductsOneQuery(blockStart, blockEnd, queries[query].Codes, rawProducts.AsSpan(query * rows, rows));
            }

            for (query = 0; query < queries.Length; query++)
            {
                OfferBounds(blockStart, rawProducts.AsSpan(query * rows, rows), queries[query], collectors[query]);
            }
        }
    }

    /// <summary>Turns raw products into bounds. Eight rows are checked at once against the running threshold, so
    /// the common case (no row of the eight can enter) costs a few vector operations.</summary>
    private void OfferBounds(int blockStart, ReadOnlySpan<int> products, QueryCode code, CandidateCollector collector)
    {
        var queryScale = Vector256.Create(code.Scale);
        var correction = Vector256.Create(code.OffsetCorrection);
        var halfScale = Vector256.Create(code.HalfScale);
        var halfL1 = Vector256.Create(code.HalfL1);
        var slack = Vector256.Create(RoundingSlack);
        ref int product = ref MemoryMarshal.GetReference(products);
        ref float scales = ref _scales[blockStart];
        ref int l1Norms = ref _l1Norms[blockStart];
        int i = 0;
        for (; i + 8 <= products.Length; i += 8)
        {
            var rowScale = Vector256.LoadUnsafe(ref scales, (nuint)i);
            var approximate = rowScale * queryScale * Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref product, (nuint)i) - correction);
            var error = rowScale * (halfScale * Vector256.ConvertToSingle(Vector256.LoadUnsafe(ref l1Norms, (nuint)i)) + halfL1) + slack;
            if (!Vector256.GreaterThanOrEqualAny(approximate + error, Vector256.Create(collector.LowerBounds.Threshold)))
            {
                continue;
            }

            for (int lane = 0; lane < 8; lane++)
            {
                collector.Offer(blockStart + i + lane, approximate.GetElement(lane), error.GetElement(lane));
            }
        }

        for (; i < products.Length; i++)
        {
            int row = blockStart + i;
            float scale = _scales[row];
            float approximate = scale * code.Scale * (products[i] - code.OffsetCorrection);
            float error = scale * (code.HalfScale * _l1Norms[row] + code.HalfL1) + RoundingSlack;
            collector.Offer(row, approximate, error);
        }
    }

    private void RawProductsOneQuery(int rowStart, int rowEnd, sbyte[] queryCodes, Span<int> products)
    {
        var ones = Vector256.Create((short)1);
        ref sbyte q = ref MemoryMarshal.GetArrayDataReference(queryCodes);
        int row = rowStart;
        for (; row + 4 <= rowEnd; row += 4)
        {
            ref byte r0 = ref _codes[row * Stride];
            ref byte r1 = ref Unsafe.Add(ref r0, Stride);
            ref byte r2 = ref Unsafe.Add(ref r1, Stride);
            ref byte r3 = ref Unsafe.Add(ref r2, Stride);
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int k = 0; k < Stride; k += Chunk)
            {
                var qv = Vector256.LoadUnsafe(ref q, (nuint)k);
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref r0, (nuint)k), qv), ones));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref r1, (nuint)k), qv), ones));
                a2 = Avx2.Add(a2, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref r2, (nuint)k), qv), ones));
                a3 = Avx2.Add(a3, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref r3, (nuint)k), qv), ones));
            }

            int o = row - rowStart;
            products[o] = Vector256.Sum(a0);
            products[o + 1] = Vector256.Sum(a1);
            products[o + 2] = Vector256.Sum(a2);
            products[o + 3] = Vector256.Sum(a3);
        }

        for (; row < rowEnd; row++)
        {
            ref byte r0 = ref _codes[row * Stride];
            Vector256<int> a0 = default;
            for (int k = 0; k < Stride; k += Chunk)
            {
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(
                    Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref r0, (nuint)k), Vector256.LoadUnsafe(ref q, (nuint)k)), ones));
            }

            products[row - rowStart] = Vector256.Sum(a0);
        }
    }

    /// <summary>products[j * rows + i] for queries first..first+3 and rows of the block; 2 rows × 4 queries share loads.</summary>
    private void RawProductsFourQueries(int rowStart, int rowEnd, QueryCode[] queries, int first, Span<int> products)
    {
        int rows = rowEnd - rowStart;
        var ones = Vector256.Create((short)1);
        ref sbyte q0 = ref MemoryMarshal.GetArrayDataReference(queries[first].Codes);
        ref sbyte q1 = ref MemoryMarshal.GetArrayDataReference(queries[first + 1].Codes);
        ref sbyte q2 = ref MemoryMarshal.GetArrayDataReference(queries[first + 2].Codes);
        ref sbyte q3 = ref MemoryMarshal.GetArrayDataReference(queries[first + 3].Codes);
        int row = rowStart;
        for (; row + 2 <= rowEnd; row += 2)
        {
            ref byte r0 = ref _codes[row * Stride];
            ref byte r1 = ref Unsafe.Add(ref r0, Stride);
            Vector256<int> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector256<int> a10 = default, a11 = default, a12 = default, a13 = default;
            for (int k = 0; k < Stride; k += Chunk)
            {
                var x0 = Vector256.LoadUnsafe(ref r0, (nuint)k);
                var x1 = Vector256.LoadUnsafe(ref r1, (nuint)k);
                var w = Vector256.LoadUnsafe(ref q0, (nuint)k);
                a00 = Avx2.Add(a00, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x0, w), ones));
                a10 = Avx2.Add(a10, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x1, w), ones));
                w = Vector256.LoadUnsafe(ref q1, (nuint)k);
                a01 = Avx2.Add(a01, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x0, w), ones));
                a11 = Avx2.Add(a11, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x1, w), ones));
                w = Vector256.LoadUnsafe(ref q2, (nuint)k);
                a02 = Avx2.Add(a02, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x0, w), ones));
                a12 = Avx2.Add(a12, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x1, w), ones));
                w = Vector256.LoadUnsafe(ref q3, (nuint)k);
                a03 = Avx2.Add(a03, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x0, w), ones));
                a13 = Avx2.Add(a13, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x1, w), ones));
            }

            int o = row - rowStart;
            products[o] = Vector256.Sum(a00);
            products[o + 1] = Vector256.Sum(a10);
            products[rows + o] = Vector256.Sum(a01);
            products[rows + o + 1] = Vector256.Sum(a11);
            products[2 * rows + o] = Vector256.Sum(a02);
            products[2 * rows + o + 1] = Vector256.Sum(a12);
            products[3 * rows + o] = Vector256.Sum(a03);
            products[3 * rows + o + 1] = Vector256.Sum(a13);
        }

        for (; row < rowEnd; row++)
        {
            for (int j = 0; j < 4; j++)
            {
                RawProductsOneQuery(row, row + 1, queries[first + j].Codes, products.Slice(j * rows + row - rowStart, 1));
            }
        }
    }
}
