package dev.millrace.training.run;

/** The batches a checkpoint would read next are gone from the topic: training stops rather than skip them. */
public final class VanishedOffsetsException extends IllegalStateException {
    public VanishedOffsetsException(String message) {
        super(message);
    }

    public VanishedOffsetsException(String message, Throwable cause) {
        super(message, cause);
    }
}
