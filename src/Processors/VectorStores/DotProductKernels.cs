using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace ReaSeq.Processors.VectorStores;

/// <summary>
/// Dot products of stored rows (row-major, <c>dimension</c> floats each) against one or several queries.
/// Every (row, query) pair is accumulated in the same order by every kernel: one 8-lane accumulator over the
/// full 8-float chunks, a horizontal sum, then the scalar tail. A batched search therefore returns bit-identical
/// scores to a single search, whichever kernel handled the pair.
/// </summary>
internal static class DotProductKernels
{
    private const int Lanes = 8;

    /// <summary>Score of one row against one query.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> row, ReadOnlySpan<float> query)
    {
        int dimension = query.Length;
        int vectorEnd = dimension - dimension % Lanes;
        ref float r = ref MemoryMarshal.GetReference(row);
        ref float q = ref MemoryMarshal.GetReference(query);
        var accumulator = Vector256<float>.Zero;
        for (int k = 0; k < vectorEnd; k += Lanes)
        {
            accumulator = Vector256.FusedMultiplyAdd(
                Vector256.LoadUnsafe(ref r, (nuint)k), Vector256.LoadUnsafe(ref q, (nuint)k), accumulator);
        }

        return Vector256.Sum(accumulator) + ScalarTail(ref r, ref q, vectorEnd, dimension);
    }

    /// <summary>scores[i] = row(rowStart + i) · query for rows [rowStart, rowEnd); four rows share each query load.</summary>
    public static void ScoreRows(
        ReadOnlySpan<float> matrix, int rowStart, int rowEnd, ReadOnlySpan<float> query, Span<float> scores)
    {
        int dimension = query.Length;
        int vectorEnd = dimension - dimension % Lanes;
        ref float q = ref MemoryMarshal.GetReference(query);
        int row = rowStart;
        for (; row + 4 <= rowEnd; row += 4)
        {
            ref float r0 = ref MemoryMarshal.GetReference(matrix.Slice(row * dimension, dimension * 4));
            ref float r1 = ref Unsafe.Add(ref r0, dimension);
            ref float r2 = ref Unsafe.Add(ref r1, dimension);
            ref float r3 = ref Unsafe.Add(ref r2, dimension);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int k = 0; k < vectorEnd; k += Lanes)
            {
                var qv = Vector256.LoadUnsafe(ref q, (nuint)k);
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r0, (nuint)k), qv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r1, (nuint)k), qv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r2, (nuint)k), qv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r3, (nuint)k), qv, a3);
            }

            int o = row - rowStart;
            scores[o] = Vector256.Sum(a0) + ScalarTail(ref r0, ref q, vectorEnd, dimension);
            scores[o + 1] = Vector256.Sum(a1) + ScalarTail(ref r1, ref q, vectorEnd, dimension);
            scores[o + 2] = Vector256.Sum(a2) + ScalarTail(ref r2, ref q, vectorEnd, dimension);
            scores[o + 3] = Vector256.Sum(a3) + ScalarTail(ref r3, ref q, vectorEnd, dimension);
        }

        for (; row < rowEnd; row++)
        {
            scores[row - rowStart] = Dot(matrix.Slice(row * dimension, dimension), query);
        }
    }

    /// <summary>scores[i] = row(rows[i]) · query for scattered rows (filter matches, candidates); four rows at a time
    /// so four independent accumulations overlap instead of waiting on one multiply-add chain.</summary>
    public static void ScoreGathered(ReadOnlySpan<float> matrix, ReadOnlySpan<int> rows, ReadOnlySpan<float> query, Span<float> scores)
    {
        int dimension = query.Length;
        int vectorEnd = dimension - dimension % Lanes;
        ref float q = ref MemoryMarshal.GetReference(query);
        int i = 0;
        for (; i + 4 <= rows.Length; i += 4)
        {
            ref float r0 = ref MemoryMarshal.GetReference(matrix.Slice(rows[i] * dimension, dimension));
            ref float r1 = ref MemoryMarshal.GetReference(matrix.Slice(rows[i + 1] * dimension, dimension));
            ref float r2 = ref MemoryMarshal.GetReference(matrix.Slice(rows[i + 2] * dimension, dimension));
            ref float r3 = ref MemoryMarshal.GetReference(matrix.Slice(rows[i + 3] * dimension, dimension));
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int k = 0; k < vectorEnd; k += Lanes)
            {
                var qv = Vector256.LoadUnsafe(ref q, (nuint)k);
                a0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r0, (nuint)k), qv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r1, (nuint)k), qv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r2, (nuint)k), qv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r3, (nuint)k), qv, a3);
            }

            scores[i] = Vector256.Sum(a0) + ScalarTail(ref r0, ref q, vectorEnd, dimension);
            scores[i + 1] = Vector256.Sum(a1) + ScalarTail(ref r1, ref q, vectorEnd, dimension);
            scores[i + 2] = Vector256.Sum(a2) + ScalarTail(ref r2, ref q, vectorEnd, dimension);
            scores[i + 3] = Vector256.Sum(a3) + ScalarTail(ref r3, ref q, vectorEnd, dimension);
        }

        for (; i < rows.Length; i++)
        {
            scores[i] = Dot(matrix.Slice(rows[i] * dimension, dimension), query);
        }
    }

    /// <summary>
    /// Block of the matrix product: scores[qi * blockRows + i] = row(rowStart + i) · query(qi), with
    /// blockRows = rowEnd - rowStart. The 2-row × 4-query micro-kernel loads 6 vectors for 8 multiply-adds,
    /// so a block of rows small enough to stay in cache is reused by every query.
    /// </summary>
    public static void ScoreBlock(
        ReadOnlySpan<float> matrix, int rowStart, int rowEnd, ReadOnlySpan<float> queries, int queryCount, int dimension,
        Span<float> scores)
    {
        int blockRows = rowEnd - rowStart;
        int vectorEnd = dimension - dimension % Lanes;
        int query = 0;
        for (; query + 4 <= queryCount; query += 4)
        {
            ref float q0 = ref MemoryMarshal.GetReference(queries.Slice(query * dimension, dimension * 4));
            ref float q1 = ref Unsafe.Add(ref q0, dimension);
            ref float q2 = ref Unsafe.Add(ref q1, dimension);
            ref float q3 = ref Unsafe.Add(ref q2, dimension);
            int row = rowStart;
            for (; row + 2 <= rowEnd; row += 2)
            {
                ref float r0 = ref MemoryMarshal.GetReference(matrix.Slice(row * dimension, dimension * 2));
                ref float r1 = ref Unsafe.Add(ref r0, dimension);
                Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
                for (int k = 0; k < vectorEnd; k += Lanes)
                {
                    var v0 = Vector256.LoadUnsafe(ref r0, (nuint)k);
                    var v1 = Vector256.LoadUnsafe(ref r1, (nuint)k);
                    var w = Vector256.LoadUnsafe(ref q0, (nuint)k);
                    a00 = Vector256.FusedMultiplyAdd(v0, w, a00);
                    a10 = Vector256.FusedMultiplyAdd(v1, w, a10);
                    w = Vector256.LoadUnsafe(ref q1, (nuint)k);
                    a01 = Vector256.FusedMultiplyAdd(v0, w, a01);
                    a11 = Vector256.FusedMultiplyAdd(v1, w, a11);
                    w = Vector256.LoadUnsafe(ref q2, (nuint)k);
                    a02 = Vector256.FusedMultiplyAdd(v0, w, a02);
                    a12 = Vector256.FusedMultiplyAdd(v1, w, a12);
                    w = Vector256.LoadUnsafe(ref q3, (nuint)k);
                    a03 = Vector256.FusedMultiplyAdd(v0, w, a03);
                    a13 = Vector256.FusedMultiplyAdd(v1, w, a13);
                }

                int o = query * blockRows + (row - rowStart);
                scores[o] = Vector256.Sum(a00) + ScalarTail(ref r0, ref q0, vectorEnd, dimension);
                scores[o + 1] = Vector256.Sum(a10) + ScalarTail(ref r1, ref q0, vectorEnd, dimension);
                o += blockRows;
                scores[o] = Vector256.Sum(a01) + ScalarTail(ref r0, ref q1, vectorEnd, dimension);
                scores[o + 1] = Vector256.Sum(a11) + ScalarTail(ref r1, ref q1, vectorEnd, dimension);
                o += blockRows;
                scores[o] = Vector256.Sum(a02) + ScalarTail(ref r0, ref q2, vectorEnd, dimension);
                scores[o + 1] = Vector256.Sum(a12) + ScalarTail(ref r1, ref q2, vectorEnd, dimension);
                o += blockRows;
                scores[o] = Vector256.Sum(a03) + ScalarTail(ref r0, ref q3, vectorEnd, dimension);
                scores[o + 1] = Vector256.Sum(a13) + ScalarTail(ref r1, ref q3, vectorEnd, dimension);
            }

            for (; row < rowEnd; row++)
            {
                var rowSpan = matrix.Slice(row * dimension, dimension);
                for (int j = 0; j < 4; j++)
                {
                    scores[(query + j) * blockRows + (row - rowStart)] =
                        Dot(rowSpan, queries.Slice((query + j) * dimension, dimension));
                }
            }
        }

        for (; query < queryCount; query++)
        {
            ScoreRows(matrix, rowStart, rowEnd, queries.Slice(query * dimension, dimension),
                scores.Slice(query * blockRows, blockRows));
        }
    }

    /// <summary>Scales <paramref name="vector"/> to unit length into <paramref name="destination"/>.</summary>
    public static void Normalize(ReadOnlySpan<float> vector, Span<float> destination)
    {
        // Norm in double: a float sum of squares can lose precision for long vectors with mixed magnitudes.
        double squaredNorm = 0;
        foreach (var component in vector)
        {
            squaredNorm += (double)component * component;
        }

        TensorPrimitives.Multiply(vector, (float)(1.0 / Math.Sqrt(squaredNorm)), destination);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float ScalarTail(ref float row, ref float query, int start, int end)
    {
        float sum = 0;
        for (int k = start; k < end; k++)
        {
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref row, k), Unsafe.Add(ref query, k), sum);
        }

        return sum;
    }
}
