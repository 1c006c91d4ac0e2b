package dev.millrace.training.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/**
 * The keys and values of the tokens one sequence has seen so far, per layer, for {@link MiniMind#forward(NDManager,
 * long[], KvCache)}: a generation step then costs one token's work plus one attention row, not a forward pass over
 * the whole sequence. Keys are stored rotated and transposed ({@code [1, kv_heads, head_dim, length]}), values as
 * {@code [1, kv_heads, length, head_dim]}, unrepeated (grouped heads read them by reshaping the queries).
 *
 * <p>It holds exactly two arrays per layer, in a manager of its own under the one it is given (a generation's):
 * appending makes the longer array in that manager and closes the shorter one.
 */
public final class KvCache implements AutoCloseable {
    private final ModelConfig config;
    private final NDManager manager;
    private final NDArray[] keysT;
    private final NDArray[] values;
    private int length;

    public KvCache(ModelConfig config, NDManager parent) {
        this.config = config;
        this.manager = parent.newSubManager();
        this.keysT = new NDArray[config.layers()];
        this.values = new NDArray[config.layers()];
    }

    /** Tokens cached: the position the next token has. */
    public int length() {
        return length;
    }

    /** Arrays the cache holds (two per layer once a token is in; for leak checks). */
    public int heldArrays() {
        return manager.getManagedArrays().size();
    }

    /**
     * Appends a layer's new keys ({@code [1, kv_heads, head_dim, n]}, rotated) and values ({@code [1, kv_heads, n,
     * head_dim]}); returns the layer's keys and values over all cached tokens and the new ones. The returned arrays
     * belong to the cache: use them only as a later operand of an operation, so what it makes lands in the step's
     * manager.
     */
    NDArray[] append(int layer, NDArray newKeysT, NDArray newValues) {
        keysT[layer] = grow(keysT[layer], newKeysT, 3);
        values[layer] = grow(values[layer], newValues, 2);
        return new NDArray[] {keysT[layer], values[layer]};
    }

    private NDArray grow(NDArray cached, NDArray added, int axis) {
        if (cached == null) {
            NDArray own = added.duplicate(); // a copy the cache owns; the step's array is closed with the step
            own.attach(manager);
            return own;
        }
        // concat makes its result in its first operand's manager: the cache's
        NDArray longer = NDArrays.concat(new NDList(cached, added), axis);
        longer.attach(manager);
        cached.close();
        return longer;
    }

    /** Called once per forward, after every layer has appended {@code n} tokens. */
    void advance(int n) {
        length += n;
        if (length > config.maxPositions()) {
            throw new IllegalStateException(length + " positions cached; the model has " + config.maxPositions());
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
