package dev.millrace.core.prepare;

import java.time.Duration;

/**
 * The bounds on one conversation's template work (docs/failures.md#a-record-that-takes-too-long):
 * the span rule renders every prefix that ends before an assistant message, so its work grows with
 * the square of the number of messages.
 *
 * @param maxMessages a conversation (or a DPO side) with more messages is rejected with
 *                    {@code TOO_MANY_MESSAGES} before anything is rendered
 * @param timeBudget  the template work on one record (its render, the render-coverage check and
 *                    the span rule's prefix renders) stops after this long with
 *                    {@code RECORD_TIME_BUDGET_EXCEEDED}
 */
public record RecordBounds(int maxMessages, Duration timeBudget) {
    /** Well under a second of prefix renders with the bundled template (docs/decisions.md). */
    public static final int DEFAULT_MAX_MESSAGES = 1000;
    /**
     * Well below the transaction timeout the Kafka Streams services run under (Kafka Streams'
     * exactly-once default {@code transaction.timeout.ms}, 10 s): a record that stops at its budget
     * still commits in the transaction it started in.
     */
    public static final long DEFAULT_TIME_BUDGET_MS = 5000;
    public static final Duration DEFAULT_TIME_BUDGET = Duration.ofMillis(DEFAULT_TIME_BUDGET_MS);
    public static final RecordBounds DEFAULT = new RecordBounds(DEFAULT_MAX_MESSAGES, DEFAULT_TIME_BUDGET);

    public RecordBounds {
        if (maxMessages < 1) {
            throw new IllegalArgumentException("max-messages must be at least 1, not " + maxMessages);
        }
        if (timeBudget == null || timeBudget.isNegative() || timeBudget.isZero()) {
            throw new IllegalArgumentException("record-time-budget-ms must be positive, not " + timeBudget);
        }
    }
}
