package dev.millrace.training.bench;

import dev.millrace.training.model.ModelConfig;

/**
 * The model FLOPs of one training step (forward and backward) of MiniMind2: the work model FLOP utilisation
 * (MFU) is measured against. Only matrix products are counted:
 *
 * <ul>
 *   <li>weights: {@code 6·N} per position, where N are the weights used in matrix products — per layer
 *       {@code q, k, v, o, gate, up, down}, and the LM head (the tied embedding, counted once: the embedding
 *       lookup is no product). 2·N forward, 4·N backward (the gradient of the input and of the weight);</li>
 *   <li>attention: {@code QKᵀ} and {@code A·V} each take {@code 2·L·hidden} per position and layer forward
 *       (L keys or values of {@code head_dim} for each of the heads; the causally masked half counted as done,
 *       as PaLM's MFU counts it, since the product is computed whole), twice that backward:
 *       {@code 12·layers·L·hidden} per position.</li>
 * </ul>
 *
 * Not counted: RMSNorm, rotary embeddings, softmax, SiLU, the loss, clipping and AdamW (element-wise, small next
 * to the products), nor recomputation (there is none). L is the number of positions a row feeds the model:
 * {@code T-1} for a batch of T (X = ids[0..T-1)).
 */
public final class ModelFlops {
    private ModelFlops() {
    }

    /** The weights used in matrix products: every layer's seven projections and the (tied) LM head. */
    public static long matmulParameters(ModelConfig c) {
        long hidden = c.hidden();
        long kv = (long) c.kvHeads() * c.headDim();
        long perLayer = 2 * hidden * hidden // q_proj, o_proj
                + 2 * kv * hidden // k_proj, v_proj
                + 3 * (long) c.intermediate() * hidden; // gate_proj, up_proj, down_proj
        return c.layers() * perLayer + (long) c.vocabSize() * hidden;
    }

    /** FLOPs of one position's forward and backward pass in rows of {@code length} positions. */
    public static long perPosition(ModelConfig c, int length) {
        return 6 * matmulParameters(c) + 12L * c.layers() * length * c.hidden();
    }

    /** FLOPs of one optimiser step over {@code rows} rows of {@code length} positions. */
    public static long perStep(ModelConfig c, int rows, int length) {
        return (long) rows * length * perPosition(c, length);
    }
}
