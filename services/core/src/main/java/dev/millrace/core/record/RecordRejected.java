package dev.millrace.core.record;

/**
 * A record that cannot be trained on: it becomes a dead letter (or a CLI error line) with this
 * reason and a message that names the offending field.
 */
public final class RecordRejected extends Exception {
    private final Reason reason;

    public RecordRejected(Reason reason, String message) {
        super(message, null, false, false); // a domain outcome, not a bug: no stack trace
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
