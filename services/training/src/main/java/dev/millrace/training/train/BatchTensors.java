package dev.millrace.training.train;

import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.model.ModelInput;

/**
 * A batch as the model trains on it: each row of T ids becomes {@code X = ids[0..T-1)} predicting
 * {@code Y = ids[1..T)}, weighted by the shifted mask {@code m[1..T)} (docs/semantics.md). Packed rows bring
 * their segment and position ids, cut to the inputs' T-1 positions. Row-major {@code [rows, T-1]} arrays.
 *
 * @param positions null for unpacked batches (0..T-2 in every row)
 * @param segments null for unpacked batches (plain causal attention)
 */
public record BatchTensors(String batchId, int rows, int length, long[] inputs, long[] targets, float[] weights,
                           int[] positions, int[] segments) {

    /**
     * Reads a pretrain or SFT batch. Filler rows weigh nothing whatever their mask says. A packed row
     * without segment or position ids (filler rows were written so before every row carried T of each)
     * reads as all 0: one padding segment, which only attends to itself.
     */
    public static BatchTensors from(Batch batch) {
        if (batch.getStage() == WireStage.DPO || batch.getRejectedRowsCount() > 0) {
            throw new IllegalArgumentException("batch " + batch.getBatchId() + " is a DPO batch: its pairs are read by dpo.DpoBatch");
        }
        return ofRows(batch.getBatchId(), batch.getSeqLen(), batch.getPacked(), batch.getRowsList());
    }

    /**
     * Reads rows of T ids as {@link #from} does, for a caller that picks the rows itself (DPO reads its
     * chosen rows and then its rejected rows as one batch of 2B rows).
     */
    public static BatchTensors ofRows(String batchId, int seqLen, boolean packed, java.util.List<BatchRow> rowList) {
        if (seqLen < 2) {
            throw new IllegalArgumentException("batch " + batchId + " has T=" + seqLen + "; a row needs at least 2 positions");
        }
        int rows = rowList.size();
        int n = seqLen - 1;
        long[] inputs = new long[rows * n];
        long[] targets = new long[rows * n];
        float[] weights = new float[rows * n];
        int[] positions = packed ? new int[rows * n] : null;
        int[] segments = packed ? new int[rows * n] : null;
        for (int r = 0; r < rows; r++) {
            BatchRow row = rowList.get(r);
            int[] ids = RowCodec.ids(row);
            if (ids.length != seqLen) {
                throw new IllegalArgumentException("batch " + batchId + " row " + r + " has " + ids.length + " ids, expected T=" + seqLen);
            }
            int[] mask = RowCodec.unpackMask(row.getLossMask(), seqLen);
            for (int t = 0; t < n; t++) {
                inputs[r * n + t] = ids[t];
                targets[r * n + t] = ids[t + 1];
                weights[r * n + t] = row.getFiller() ? 0f : mask[t + 1];
            }
            if (packed) {
                copyIds(batchId, r, "segment", row.getSegmentIdsList(), segments, n, seqLen);
                copyIds(batchId, r, "position", row.getPositionIdsList(), positions, n, seqLen);
            }
        }
        return new BatchTensors(batchId, rows, n, inputs, targets, weights, positions, segments);
    }

    private static void copyIds(String batchId, int r, String what, java.util.List<Integer> ids, int[] into, int n, int seqLen) {
        if (ids.isEmpty()) {
            return; // all 0 (see from)
        }
        if (ids.size() != seqLen) {
            throw new IllegalArgumentException("batch " + batchId + " row " + r + " has " + ids.size() + " " + what + " ids, expected T=" + seqLen);
        }
        for (int t = 0; t < n; t++) {
            into[r * n + t] = ids.get(t);
        }
    }

    public ModelInput input() {
        return new ModelInput(rows, length, inputs, positions, segments);
    }

    /** Σ m: the tokens this batch trains on (0: nothing to learn, the trainer skips it). */
    public double weightSum() {
        double sum = 0;
        for (float w : weights) {
            sum += w;
        }
        return sum;
    }

    /** Fails with both values when an id does not fit the model's vocabulary. */
    public void checkFits(ModelConfig config) {
        for (long[] ids : new long[][] {inputs, targets}) {
            for (long id : ids) {
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("batch " + batchId + " holds token id " + id
                            + ", outside the model's vocabulary of " + config.vocabSize());
                }
            }
        }
    }
}
