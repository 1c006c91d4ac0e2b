package dev.millrace.core.batch;

import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TopicOffset;
import java.util.Arrays;

/**
 * The largest batch message a stage can send, measured with the real serializer: a {@link Batch}
 * whose every field is as long as it can get (docs/failures.md#state-and-batch-size-limits). The
 * shape is fixed by B and T; what varies is how many bytes each varint takes and the lineage a row
 * carries, so this batch has B rows (DPO: B pairs) of T ids that all take {@code maxTokenId}'s bytes,
 * every loss-mask bit set, for packed rows T segment and position ids at their largest and one record
 * reference per example (at most {@code examplesPerRow}), every reference with a 64-character record id,
 * the longest raw position and window, and every warning on every row. Batch id, counts and times
 * take their largest values too. Its serialized size is an upper bound for every batch of that shape.
 */
public final class LargestBatch {
    /** A record id: a hex SHA-256 (docs/semantics.md#record-ids). */
    private static final int RECORD_ID_CHARS = 64;

    private LargestBatch() {
    }

    /**
     * @param maxTokenId the largest id the tokenizer produces (vocabulary size - 1); {@link Integer#MAX_VALUE}
     *     when the tokenizer is not known (the bound then holds for any tokenizer)
     * @param examplesPerRow packed rows: the most examples one row can hold (min(T, the pack buffer));
     *     ignored for unpacked rows, which come from one record each
     * @param rawTopic the stage's raw topic, which every record reference names
     */
    public static Batch of(Stage stage, int seqLen, int batchSize, boolean packed, int maxTokenId, int examplesPerRow,
                           String tokenizerFingerprint, String rawTopic) {
        int refs = packed ? Math.max(1, Math.min(seqLen, examplesPerRow)) : 1;
        BatchRow row = row(seqLen, packed, maxTokenId, refs, rawTopic);
        Batch.Builder b = Batch.newBuilder()
                .setBatchId(String.format("%s-p%d-%d", stage.id(), Integer.MAX_VALUE, Long.MAX_VALUE))
                .setStage(StageCodec.toWire(stage))
                .setTokenizerFingerprint(tokenizerFingerprint)
                .setSeqLen(seqLen)
                .setPacked(packed)
                .setCreatedAtMs(Long.MAX_VALUE)
                .setRealRows(Integer.MAX_VALUE)
                .setNonpadTokens(Long.MAX_VALUE)
                .setTrainedTokens(Long.MAX_VALUE)
                .setNonpadShare(1.0)
                .setTrainedShare(1.0);
        for (int i = 0; i < batchSize; i++) {
            b.addRows(row);
            if (stage == Stage.DPO) {
                b.addRejectedRows(row);
            }
        }
        return b.build();
    }

    /** The serialized size of {@link #of}, and of its key (the batch id), in bytes. */
    public static long bytes(Stage stage, int seqLen, int batchSize, boolean packed, int maxTokenId, int examplesPerRow,
                             String tokenizerFingerprint, String rawTopic) {
        Batch batch = of(stage, seqLen, batchSize, packed, maxTokenId, examplesPerRow, tokenizerFingerprint, rawTopic);
        return (long) batch.getSerializedSize() + batch.getBatchIdBytes().size();
    }

    private static BatchRow row(int seqLen, boolean packed, int maxTokenId, int refs, String rawTopic) {
        byte[] mask = new byte[(seqLen + 7) / 8];
        Arrays.fill(mask, (byte) 0xff);
        BatchRow.Builder row = BatchRow.newBuilder()
                .setLossMask(com.google.protobuf.ByteString.copyFrom(mask))
                .setNonpadTokens(seqLen)
                .setTrainedTokens(seqLen);
        for (int k = 0; k < seqLen; k++) {
            row.addInputIds(maxTokenId);
            if (packed) {
                row.addSegmentIds(refs).addPositionIds(seqLen - 1);
            }
        }
        RecordRef ref = RecordRef.newBuilder()
                .setRecordId("f".repeat(RECORD_ID_CHARS))
                .setRaw(TopicOffset.newBuilder().setTopic(rawTopic).setPartition(Integer.MAX_VALUE).setOffset(Long.MAX_VALUE))
                .setWindow(Integer.MAX_VALUE)
                .build();
        for (int i = 0; i < refs; i++) {
            row.addRecords(ref);
        }
        for (Warning w : Warning.values()) {
            row.addWarnings(w.name());
        }
        return row.build();
    }
}
