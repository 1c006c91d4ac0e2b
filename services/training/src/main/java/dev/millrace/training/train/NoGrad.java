package dev.millrace.training.train;

import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's grad mode, off for a block and restored after it. The mode is per thread and on in a new
 * thread: DJL turns it off only on the thread that loads the engine, so on any other thread (the trainer
 * service trains on its own) an in-place update of a weight fails ("a leaf Variable that requires grad is
 * being used in an in-place operation") and a forward pass builds a graph nobody asked for.
 */
public final class NoGrad implements AutoCloseable {
    private final boolean previous;

    private NoGrad() {
        previous = JniUtils.isGradMode();
        if (previous) {
            JniUtils.setGradMode(false);
        }
    }

    /** Turns grad mode off on this thread until {@link #close()}. */
    public static NoGrad enter() {
        return new NoGrad();
    }

    @Override
    public void close() {
        if (previous) {
            JniUtils.setGradMode(true);
        }
    }
}
