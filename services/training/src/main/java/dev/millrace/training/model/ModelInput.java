package dev.millrace.training.model;

/**
 * What the model reads: {@code batch} rows of {@code length} token ids, row-major, and for packed rows
 * each position's example ({@code segments}) and position within it ({@code positions}).
 *
 * @param positions null: 0..length-1 in every row
 * @param segments null: one example per row, so attention is only causal
 */
public record ModelInput(int batch, int length, long[] ids, int[] positions, int[] segments) {
    public ModelInput {
        int n = batch * length;
        if (ids.length != n) {
            throw new IllegalArgumentException(ids.length + " ids for " + batch + " rows of " + length);
        }
        if (positions != null && positions.length != n) {
            throw new IllegalArgumentException(positions.length + " position ids for " + batch + " rows of " + length);
        }
        if (segments != null && segments.length != n) {
            throw new IllegalArgumentException(segments.length + " segment ids for " + batch + " rows of " + length);
        }
    }

    /** Unpacked rows: positions 0..length-1, causal attention. */
    public static ModelInput unpacked(int batch, int length, long[] ids) {
        return new ModelInput(batch, length, ids, null, null);
    }

    public int position(int row, int t) {
        return positions == null ? t : positions[row * length + t];
    }

    /**
     * May the token at {@code t} attend to the one at {@code s}? Causal, and inside its own segment.
     * Padding is segment 0 and attends to earlier padding, at least to itself, so no softmax row is
     * empty (that would be NaN); its outputs are never trained on.
     */
    public boolean attends(int row, int t, int s) {
        return s <= t && (segments == null || segments[row * length + t] == segments[row * length + s]);
    }
}
