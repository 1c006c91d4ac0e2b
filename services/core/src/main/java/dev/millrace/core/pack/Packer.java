package dev.millrace.core.pack;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Whole-example packing (docs/semantics.md#packing): best-fit decreasing over a bounded buffer of
 * examples. {@link #add} keeps an example until the buffer holds {@code bufferSize} of them, then
 * packs the whole buffer into rows and returns them; {@link #finish} packs what is left. Examples
 * are never split: one of length T fills a row alone (callers truncate longer ones to T first, as
 * without packing). The output depends only on the input order: examples are placed longest first
 * (ties in arrival order), each into the open row with the least room that still fits it (ties: the
 * oldest row), and rows come out in the order they were opened, their examples in arrival order.
 * Not thread-safe.
 */
public final class Packer {
    public static final int DEFAULT_BUFFER = 512;

    private final int seqLen;
    private final int padId;
    private final int bufferSize;
    private final List<Example> buffer = new ArrayList<>();
    private long arrivals;

    public Packer(int seqLen, int padId, int bufferSize) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("sequence length must be at least 2, got " + seqLen);
        }
        if (bufferSize < 1) {
            throw new IllegalArgumentException("pack buffer must hold at least 1 example, got " + bufferSize);
        }
        this.seqLen = seqLen;
        this.padId = padId;
        this.bufferSize = bufferSize;
    }

    public int seqLen() {
        return seqLen;
    }

    public int bufferSize() {
        return bufferSize;
    }

    /** Examples held now, never more than {@link #bufferSize()}. */
    public int buffered() {
        return buffer.size();
    }

    /**
     * Adds one example (its real tokens only, no padding) and returns the rows this completes:
     * none, or every row of the buffer when it has just become full.
     *
     * @param line the example's input reference (a line number), reported in {@link PackedRow#lines()}
     * @throws IllegalArgumentException for an empty example, one longer than T, or ids and mask of different lengths
     */
    public List<PackedRow> add(int[] ids, int[] mask, long line) {
        if (ids.length != mask.length) {
            throw new IllegalArgumentException("ids and mask differ in length");
        }
        if (ids.length == 0 || ids.length > seqLen) {
            throw new IllegalArgumentException("an example must have 1 to " + seqLen + " tokens, got " + ids.length);
        }
        buffer.add(new Example(ids.clone(), mask.clone(), line, arrivals++));
        return buffer.size() >= bufferSize ? flush() : List.of();
    }

    /** Packs every buffered example (end of input); the packer is empty and usable afterwards. */
    public List<PackedRow> finish() {
        return flush();
    }

    private List<PackedRow> flush() {
        if (buffer.isEmpty()) {
            return List.of();
        }
        List<Example> order = new ArrayList<>(buffer);
        buffer.clear();
        order.sort(Comparator.comparingInt((Example e) -> e.ids.length).reversed().thenComparingLong(e -> e.arrival));
        List<Bin> bins = new ArrayList<>();
        for (Example e : order) {
            Bin best = null;
            for (Bin b : bins) {
                int room = seqLen - b.used;
                if (room >= e.ids.length && (best == null || room < seqLen - best.used)) {
                    best = b;
                }
            }
            if (best == null) {
                best = new Bin();
                bins.add(best);
            }
            best.examples.add(e);
            best.used += e.ids.length;
        }
        List<PackedRow> rows = new ArrayList<>(bins.size());
        for (Bin b : bins) {
            b.examples.sort(Comparator.comparingLong(e -> e.arrival));
            rows.add(row(b.examples));
        }
        return rows;
    }

    private PackedRow row(List<Example> examples) {
        int[] ids = new int[seqLen];
        int[] mask = new int[seqLen];
        int[] segments = new int[seqLen];
        int[] positions = new int[seqLen];
        List<Long> lines = new ArrayList<>(examples.size());
        int at = 0;
        int segment = 0;
        for (Example e : examples) {
            segment++;
            int n = e.ids.length;
            System.arraycopy(e.ids, 0, ids, at, n);
            System.arraycopy(e.mask, 0, mask, at, n);
            if (at > 0) {
                mask[at] = 0; // nothing learns to predict across an example boundary
            }
            for (int k = 0; k < n; k++) {
                segments[at + k] = segment;
                positions[at + k] = k;
            }
            lines.add(e.line);
            at += n;
        }
        Arrays.fill(ids, at, seqLen, padId);
        return new PackedRow(ids, mask, segments, positions, lines, at);
    }

    private record Example(int[] ids, int[] mask, long line, long arrival) {
    }

    private static final class Bin {
        final List<Example> examples = new ArrayList<>();
        int used;
    }
}
