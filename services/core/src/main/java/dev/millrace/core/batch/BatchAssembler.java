package dev.millrace.core.batch;

import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import java.util.List;

/**
 * Fixed-shape batches: rows are added to an open batch until it holds B of them; a batch closed
 * early (the linger ran out on a quiet stream) is completed with flagged filler rows, so every
 * batch has exactly B rows of T positions. A DPO batch holds B pairs: {@code rows} are the chosen
 * rows, {@code rejected_rows} the rejected ones, row i of each from the same record (filler pairs
 * complete it). The open batch is a partial {@link Batch} message; a stream processor that keeps
 * it in a changelogged state store keeps its header ({@link #start}) and its rows apart, so that
 * each row is written once, and joins them ({@link #withRows}) to send it.
 */
public final class BatchAssembler {
    private final Stage stage;
    private final String tokenizerFingerprint;
    private final int seqLen;
    private final int batchSize;
    private final int padId;
    private final boolean packed;

    public BatchAssembler(Stage stage, String tokenizerFingerprint, int seqLen, int batchSize, int padId) {
        this(stage, tokenizerFingerprint, seqLen, batchSize, padId, false);
    }

    /** @param packed whether the rows are packed rows (sets {@code Batch.packed}) */
    public BatchAssembler(Stage stage, String tokenizerFingerprint, int seqLen, int batchSize, int padId, boolean packed) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1");
        }
        if (packed && stage == Stage.DPO) {
            throw new IllegalArgumentException("packing is not offered for DPO: a pair's chosen and rejected rows must stay aligned");
        }
        this.stage = stage;
        this.tokenizerFingerprint = tokenizerFingerprint;
        this.seqLen = seqLen;
        this.batchSize = batchSize;
        this.padId = padId;
        this.packed = packed;
    }

    /** A batch id that is stable across restarts: stage, source partition, sequence number. */
    public String batchId(int partition, long sequence) {
        return String.format("%s-p%d-%08d", stage.id(), partition, sequence);
    }

    /** Adds a row to {@code open} (null: start a new batch) and returns the new open batch. */
    public Batch add(Batch open, String batchId, BatchRow row, long nowMs) {
        checkRow(row);
        return builder(open, batchId, nowMs).addRows(row).build();
    }

    /** DPO: adds a chosen row and its rejected row at the same index of {@code rows} and {@code rejected_rows}. */
    public Batch addPair(Batch open, String batchId, BatchRow chosen, BatchRow rejected, long nowMs) {
        checkPair(chosen, rejected);
        return builder(open, batchId, nowMs).addRows(chosen).addRejectedRows(rejected).build();
    }

    /**
     * A new open batch with no rows yet: the fields a batch has from its first row on. A caller that
     * keeps the open batch row by row (a changelogged store) keeps this and the rows apart and joins
     * them with {@link #withRows} when it sends the batch.
     */
    public Batch start(String batchId, long nowMs) {
        return builder(null, batchId, nowMs).build();
    }

    /** Checks a row before it is kept for this batch (its length; single rows only for a non-DPO stage). */
    public void checkRow(BatchRow row) {
        if (stage == Stage.DPO) {
            throw new IllegalArgumentException("a DPO batch takes pairs (addPair), not single rows");
        }
        checkLength(row);
    }

    /** Checks a pair before it is kept for this batch (DPO only, both lengths). */
    public void checkPair(BatchRow chosen, BatchRow rejected) {
        if (stage != Stage.DPO) {
            throw new IllegalArgumentException("only DPO batches hold pairs; this one is for " + stage.id());
        }
        checkLength(chosen);
        checkLength(rejected);
    }

    /** The open batch {@code start} with its rows (DPO: and the rejected rows at the same indexes), not yet closed. */
    public Batch withRows(Batch start, List<BatchRow> rows, List<BatchRow> rejectedRows) {
        return start.toBuilder().addAllRows(rows).addAllRejectedRows(rejectedRows).build();
    }

    private void checkLength(BatchRow row) {
        if (row.getInputIdsCount() != seqLen) {
            throw new IllegalArgumentException("row has " + row.getInputIdsCount() + " ids, expected T=" + seqLen);
        }
    }

    private Batch.Builder builder(Batch open, String batchId, long nowMs) {
        return open == null
                ? Batch.newBuilder()
                        .setBatchId(batchId)
                        .setStage(StageCodec.toWire(stage))
                        .setTokenizerFingerprint(tokenizerFingerprint)
                        .setSeqLen(seqLen)
                        .setPacked(packed)
                        .setCreatedAtMs(nowMs)
                : open.toBuilder();
    }

    public boolean isFull(Batch open) {
        return open != null && open.getRowsCount() >= batchSize;
    }

    /**
     * Completes the batch to exactly B rows (DPO: B pairs) with filler rows and sets its totals and
     * fill shares (docs/semantics.md#fill): non-pad and trained tokens over the real rows' T slots; for DPO over
     * the chosen and rejected real rows together. Filler rows never count.
     */
    public Batch close(Batch open) {
        Batch.Builder b = open.toBuilder();
        Totals totals = new Totals();
        totals.add(open.getRowsList());
        totals.add(open.getRejectedRowsList());
        double slots = (double) totals.rows * seqLen;
        b.setRealRows(open.getRowsCount())
                .setNonpadTokens(totals.nonPad)
                .setTrainedTokens(totals.trained)
                .setNonpadShare(slots == 0 ? 0.0 : totals.nonPad / slots)
                .setTrainedShare(slots == 0 ? 0.0 : totals.trained / slots);
        BatchRow filler = RowCodec.filler(seqLen, padId, packed);
        while (b.getRowsCount() < batchSize) {
            b.addRows(filler);
            if (stage == Stage.DPO) {
                b.addRejectedRows(filler);
            }
        }
        return b.build();
    }

    public int batchSize() {
        return batchSize;
    }

    public boolean packed() {
        return packed;
    }

    private static final class Totals {
        long rows;
        long nonPad;
        long trained;

        void add(List<BatchRow> rows) {
            for (BatchRow row : rows) {
                this.rows++;
                nonPad += row.getNonpadTokens();
                trained += row.getTrainedTokens();
            }
        }
    }
}
