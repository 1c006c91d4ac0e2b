package dev.millrace.core.batch;

import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.core.wire.WireStage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.Row;

/**
 * Fixed-shape batches: rows are added to an open batch until it holds B of them; a batch closed
 * early (the linger ran out on a quiet stream) is completed with flagged filler rows, so every
 * batch has exactly B rows of T positions. The open batch is a partial {@link Batch} message so
 * a stream processor can keep it in a changelogged state store between records.
 */
public final class BatchAssembler {
    private final Stage stage;
    private final String tokenizerFingerprint;
    private final int seqLen;
    private final int batchSize;
    private final int padId;

    public BatchAssembler(Stage stage, String tokenizerFingerprint, int seqLen, int batchSize, int padId) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1");
        }
        this.stage = stage;
        this.tokenizerFingerprint = tokenizerFingerprint;
        this.seqLen = seqLen;
        this.batchSize = batchSize;
        this.padId = padId;
    }

    /** A batch id that is stable across restarts: stage, source partition, sequence number. */
    public String batchId(int partition, long sequence) {
        return String.format("%s-p%d-%08d", stage.id(), partition, sequence);
    }

    /** Adds a row to {@code open} (null: start a new batch) and returns the new open batch. */
    public Batch add(Batch open, String batchId, Row row, long nowMs) {
        if (row.getInputIdsCount() != seqLen) {
            throw new IllegalArgumentException("row has " + row.getInputIdsCount() + " ids, expected T=" + seqLen);
        }
        Batch.Builder b = open == null
                ? Batch.newBuilder()
                        .setBatchId(batchId)
                        .setStage(WireStage.toProto(stage))
                        .setTokenizerFingerprint(tokenizerFingerprint)
                        .setSeqLen(seqLen)
                        .setCreatedAtMs(nowMs)
                : open.toBuilder();
        return b.addRows(row).build();
    }

    public boolean isFull(Batch open) {
        return open != null && open.getRowsCount() >= batchSize;
    }

    /** Completes the batch to exactly B rows with filler rows and sets its totals. */
    public Batch close(Batch open) {
        Batch.Builder b = open.toBuilder();
        long nonPad = 0;
        long trained = 0;
        for (Row row : open.getRowsList()) {
            nonPad += row.getNonpadTokens();
            trained += row.getTrainedTokens();
        }
        b.setRealRows(open.getRowsCount()).setNonpadTokens(nonPad).setTrainedTokens(trained);
        Row filler = RowCodec.filler(seqLen, padId);
        while (b.getRowsCount() < batchSize) {
            b.addRows(filler);
        }
        return b.build();
    }

    public int batchSize() {
        return batchSize;
    }
}
