package dev.millrace.ingest;

import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * Whether the broker is known to be away, so that an HTTP request can be answered 503 at once instead
 * of waiting out the producer's timeouts again. A send that timed out (no metadata within max.block.ms,
 * or no acknowledgement within delivery.timeout.ms) marks the broker away; an acknowledged send marks
 * it back. While it is away, requests are refused for {@link #RETRY_AFTER_SECONDS}; after that one
 * request at a time (the probe) is let through to the broker, and its outcome decides.
 */
final class BrokerOutage {
    /** How long a refusal holds, and the {@code Retry-After} of every 503 ingest answers. */
    static final int RETRY_AFTER_SECONDS = 5;

    private final LongSupplier nanoTime;
    private boolean away;
    private long awaySince;
    private long lastTimeout;
    private String reason;
    private boolean probing;

    BrokerOutage() {
        this(System::nanoTime);
    }

    BrokerOutage(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    /** Thrown (as the cause of a failed produce) for a request refused because the broker is away. */
    static final class BrokerAway extends RuntimeException {
        BrokerAway(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * @return empty when the caller may send: the broker is not known to be away, or the caller is the
     *     probe (it must then report its outcome); else why it is refused
     */
    synchronized Optional<BrokerAway> refusal() {
        if (!away) {
            return Optional.empty();
        }
        long now = nanoTime.getAsLong();
        if (!probing && now - lastTimeout >= TimeUnit.SECONDS.toNanos(RETRY_AFTER_SECONDS)) {
            probing = true;
            return Optional.empty();
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(now - awaySince);
        return Optional.of(new BrokerAway("the broker is away: no send has been acknowledged since one failed " + seconds
                + " s ago (" + reason + "); nothing of this body was sent"));
    }

    /** The outcome of a request's sends: null when every one was acknowledged. */
    synchronized void outcome(Throwable error) {
        probing = false;
        if (error == null) {
            away = false;
            return;
        }
        Throwable cause = unwrap(error);
        if (isBrokerAway(error)) {
            long now = nanoTime.getAsLong();
            if (!away) {
                away = true;
                awaySince = now;
            }
            lastTimeout = now;
            reason = cause.getMessage();
        }
    }

    /** Whether a failed send says the broker is away: it timed out (no metadata within max.block.ms, or no acknowledgement in time). */
    static boolean isBrokerAway(Throwable error) {
        return unwrap(error) instanceof TimeoutException;
    }

    private static Throwable unwrap(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
