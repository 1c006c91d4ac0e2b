package dev.millrace.core.pack;

import dev.millrace.core.mask.Row;
import java.util.List;

/**
 * One packed row of exactly {@code T} tokens (docs/semantics.md#packing): whole examples one after the
 * other, then padding. {@code mask} is each example's own unshifted mask, except that the first
 * token of every example after the first is 0; {@code segmentIds} are 1, 2, ... per example (0 on
 * padding); {@code positionIds} restart at 0 for each example (0 on padding); {@code lines} are the
 * examples' input references, in the row's order; {@code realLength} is where the padding starts.
 */
public record PackedRow(int[] ids, int[] mask, int[] segmentIds, int[] positionIds, List<Long> lines, int realLength) {
    public PackedRow {
        lines = List.copyOf(lines);
    }

    public int seqLen() {
        return ids.length;
    }

    /** The same tokens as a plain {@link Row} (padding at the tail), for fill statistics. */
    public Row asRow() {
        return new Row(ids, mask, realLength, false);
    }
}
