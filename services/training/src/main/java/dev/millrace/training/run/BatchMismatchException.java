package dev.millrace.training.run;

/**
 * A batch the model cannot train on (another tokenizer, stage or T, an id outside its vocabulary): a
 * configuration error, so training stops; skipping the batch would lose data.
 */
public final class BatchMismatchException extends IllegalStateException {
    public BatchMismatchException(String message) {
        super(message);
    }

    public BatchMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
