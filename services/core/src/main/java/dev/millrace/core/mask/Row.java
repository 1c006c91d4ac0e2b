package dev.millrace.core.mask;

import java.util.Arrays;

/**
 * One training row of exactly {@code T} ids and its unshifted mask: the sequence cut on the right
 * to {@code T} and right-padded with {@code pad}. Padding is known by position ({@link #realLength}),
 * never by comparing ids with the pad id, so a pad id equal to eos still trains the eos.
 */
public record Row(int[] ids, int[] mask, int realLength, boolean truncated) {

    public static Row fit(int[] ids, int[] mask, int seqLen, int padId) {
        if (ids.length != mask.length) {
            throw new IllegalArgumentException("ids and mask differ in length");
        }
        if (seqLen < 2) {
            throw new IllegalArgumentException("sequence length must be at least 2, got " + seqLen);
        }
        int real = Math.min(ids.length, seqLen);
        int[] rowIds = Arrays.copyOf(ids, seqLen);
        int[] rowMask = Arrays.copyOf(mask, seqLen);
        Arrays.fill(rowIds, real, seqLen, padId);
        Arrays.fill(rowMask, real, seqLen, 0);
        return new Row(rowIds, rowMask, real, ids.length > seqLen);
    }

    public int seqLen() {
        return ids.length;
    }

    public int trainedTokens() {
        int sum = 0;
        for (int v : mask) {
            sum += v;
        }
        return sum;
    }

    /** What the trainer sees (docs/semantics.md#shift): X = ids[0..T-1), Y = ids[1..T), mask = m[1..T). */
    public Shifted shift() {
        int t = ids.length;
        return new Shifted(Arrays.copyOfRange(ids, 0, t - 1), Arrays.copyOfRange(ids, 1, t), Arrays.copyOfRange(mask, 1, t));
    }

    /** The model's inputs, targets and the shifted loss mask, each of length T-1. */
    public record Shifted(int[] x, int[] y, int[] lossMask) {
    }
}
