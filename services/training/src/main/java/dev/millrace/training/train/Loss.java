package dev.millrace.training.train;

import ai.djl.ndarray.NDArray;

/**
 * The training loss as pure functions. The loss of an optimiser step is {@code Σ ce·m / Σ m} over every
 * position of every batch in it, so it is summed here and divided once by the step's {@code Σ m}: a row
 * with many trained tokens weighs more than one with few, exactly as if the batches were one.
 */
public final class Loss {
    private Loss() {
    }

    /** Cross-entropy of each position, {@code logsumexp(logits) - logits[target]}: {@code [B, T]} from {@code [B, T, V]}. */
    public static NDArray crossEntropy(NDArray logits, NDArray targets) {
        NDArray logProbs = logits.logSoftmax(-1);
        return logProbs.gather(targets.expandDims(-1), -1).squeeze(-1).neg();
    }

    /** {@code Σ ce·m}, a scalar: positions with weight 0 (prompt, padding, filler rows) add nothing. */
    public static NDArray weightedSum(NDArray logits, NDArray targets, NDArray weights) {
        return crossEntropy(logits, targets).mul(weights).sum();
    }
}
