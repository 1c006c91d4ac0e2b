package dev.millrace.training.dpo;

import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.train.BatchTensors;
import java.util.ArrayList;
import java.util.List;

/**
 * A DPO batch as the model trains on it: {@code rows[i]} (chosen) and {@code rejected_rows[i]} are pair i.
 * Both sides are read as one batch of 2P rows, chosen rows first, so one forward pass scores both (as
 * MiniMind's {@code train_dpo.py} concatenates them); each side is shifted as any row is (X = ids[:-1],
 * Y = ids[1:], m = mask[1:]).
 *
 * @param sides 2P rows: chosen rows 0..P-1, then rejected rows P..2P-1
 * @param pairWeights 1 for a real pair, 0 for a filler pair (either side a filler row or without a trained
 *                    token: it would compare nothing)
 */
public record DpoBatch(String batchId, int pairs, BatchTensors sides, float[] pairWeights) {

    public static DpoBatch from(Batch batch) {
        if (batch.getStage() != WireStage.DPO) {
            throw new IllegalArgumentException("batch " + batch.getBatchId() + " is a " + batch.getStage() + " batch, not a DPO batch");
        }
        if (batch.getRejectedRowsCount() != batch.getRowsCount()) {
            throw new IllegalArgumentException("batch " + batch.getBatchId() + " has " + batch.getRowsCount() + " chosen rows but "
                    + batch.getRejectedRowsCount() + " rejected rows; a DPO batch holds pairs");
        }
        if (batch.getPacked()) {
            throw new IllegalArgumentException("batch " + batch.getBatchId() + " is packed; DPO pairs are never packed");
        }
        int pairs = batch.getRowsCount();
        List<BatchRow> rows = new ArrayList<>(batch.getRowsList());
        rows.addAll(batch.getRejectedRowsList());
        BatchTensors sides = BatchTensors.ofRows(batch.getBatchId(), batch.getSeqLen(), false, rows);
        float[] pairWeights = new float[pairs];
        double[] trained = trainedPerRow(sides);
        for (int i = 0; i < pairs; i++) {
            pairWeights[i] = trained[i] > 0 && trained[pairs + i] > 0 ? 1f : 0f;
        }
        return new DpoBatch(batch.getBatchId(), pairs, sides, pairWeights);
    }

    private static double[] trainedPerRow(BatchTensors t) {
        double[] sums = new double[t.rows()];
        for (int r = 0; r < t.rows(); r++) {
            for (int p = 0; p < t.length(); p++) {
                sums[r] += t.weights()[r * t.length() + p];
            }
        }
        return sums;
    }

    /** Σ m over both sides of the real pairs: the tokens whose log-probs the loss compares. */
    public long trainedTokens() {
        double sum = 0;
        int n = sides.length();
        for (int i = 0; i < pairs; i++) {
            if (pairWeights[i] == 0) {
                continue;
            }
            for (int t = 0; t < n; t++) {
                sum += sides.weights()[i * n + t] + sides.weights()[(pairs + i) * n + t];
            }
        }
        return Math.round(sum);
    }

    /** Pairs that count: the denominator of the batch's mean loss (0: nothing to learn). */
    public int realPairs() {
        int n = 0;
        for (float w : pairWeights) {
            n += w > 0 ? 1 : 0;
        }
        return n;
    }
}
