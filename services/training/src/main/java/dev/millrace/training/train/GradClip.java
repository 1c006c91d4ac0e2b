package dev.millrace.training.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.Collection;

/**
 * Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_}: when the norm of all gradients
 * together exceeds {@code max}, every gradient is scaled by the same factor so the direction is kept. (DJL's
 * {@code optClipGrad} clamps each element on its own, which changes the direction.)
 */
public final class GradClip {
    private GradClip() {
    }

    /** {@code sqrt(Σ g²)} over all the arrays, accumulated in double. */
    public static double globalNorm(Collection<NDArray> grads) {
        // The squares and sums are temporaries made in the gradients' long-lived manager: the scope frees them.
        try (NDScope scope = new NDScope()) {
            double sumOfSquares = 0;
            for (NDArray g : grads) {
                sumOfSquares += g.square().sum().toType(ai.djl.ndarray.types.DataType.FLOAT64, false).getDouble();
            }
            return Math.sqrt(sumOfSquares);
        }
    }

    /** The factor the gradients are multiplied by: 1 within the bound, {@code max / (norm + 1e-6)} above it. */
    public static double scale(double norm, double max) {
        return norm > max ? max / (norm + 1e-6) : 1.0;
    }
}
