package dev.millrace.streams.failure;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.LongSupplier;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.jboss.logging.Logger;

/**
 * The uncaught-exception handler of a step's Kafka Streams client (each service produces one as a
 * CDI bean; Quarkus installs it). A failed stream thread is replaced: its tasks go on from their
 * last commit, so under exactly-once nothing is lost or repeated, and a passing fault heals by itself.
 * <p>
 * A thread that failed because the broker did not answer in time (a Kafka {@link TimeoutException},
 * a lost connection, or the producer's own words for a timeout that ran out, anywhere in the cause
 * chain: a send that found no metadata within {@code max.block.ms}, sends not acknowledged within
 * {@code delivery.timeout.ms}, a task that made no progress within {@code task.timeout.ms}) is replaced
 * however often that happens, after a back-off that doubles from {@link #FIRST_BACKOFF} up to
 * {@link #MAX_BACKOFF}: the broker comes back some day, and the replacement waits in the group join
 * until it does, so a service rides out an outage of any length (and a broker that comes and goes).
 * Such failures need a client timeout to run out first, so they cannot spin.
 * <p>
 * Any other failure that comes back every time would make replacing a loop that looks alive, so
 * after {@value #MAX_REPLACEMENTS} replacements for other reasons within {@link #WINDOW} the client
 * shuts down instead: its state becomes ERROR, health reports DOWN (readiness and liveness), and the
 * orchestrator restarts the service or an operator looks. An {@link VirtualMachineError} (out of
 * memory) shuts it down at once.
 * <p>
 * Each replacement is counted in {@code millrace_stream_thread_replacements_total{cause}}, {@code cause}
 * {@value #BROKER_AWAY} or {@value #OTHER} (the ones the crash limit counts).
 */
public final class StreamThreadFailureHandler implements StreamsUncaughtExceptionHandler {
    private static final Logger LOG = Logger.getLogger(StreamThreadFailureHandler.class);
    public static final int MAX_REPLACEMENTS = 5;
    public static final Duration WINDOW = Duration.ofMinutes(10);
    public static final String REPLACEMENTS_METER = "millrace.stream.thread.replacements";
    public static final String BROKER_AWAY = "broker_away";
    public static final String OTHER = "other";
    public static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    /** Short enough that a SIGTERM during the back-off still ends the service within its grace period. */
    public static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

    /** Waits before a thread is replaced (the dying stream thread waits: Kafka Streams calls the handler on it). */
    interface Sleeper {
        void sleep(long ms) throws InterruptedException;
    }

    private final int maxReplacements;
    private final long windowMs;
    private final LongSupplier clockMs;
    private final Sleeper sleeper;
    private final Counter brokerAwayCount;
    private final Counter otherCount;
    /** When the recent replacements for other reasons than the broker's absence happened, oldest first, all within the window. */
    private final Deque<Long> replacements = new ArrayDeque<>();
    /** When the recent replacements because the broker was away happened, oldest first, all within the window (for the back-off). */
    private final Deque<Long> brokerAwayReplacements = new ArrayDeque<>();

    public StreamThreadFailureHandler(MeterRegistry registry) {
        this(registry, MAX_REPLACEMENTS, WINDOW, System::currentTimeMillis, Thread::sleep);
    }

    StreamThreadFailureHandler(MeterRegistry registry, int maxReplacements, Duration window, LongSupplier clockMs, Sleeper sleeper) {
        this.maxReplacements = maxReplacements;
        this.windowMs = window.toMillis();
        this.clockMs = clockMs;
        this.sleeper = sleeper;
        this.brokerAwayCount = replacements(registry, BROKER_AWAY);
        this.otherCount = replacements(registry, OTHER);
    }

    private static Counter replacements(MeterRegistry registry, String cause) {
        return Counter.builder(REPLACEMENTS_METER).tag("cause", cause)
                .description("Stream threads replaced after they failed, by cause (" + OTHER + ": the ones the crash limit counts)")
                .register(registry);
    }

    @Override
    public StreamThreadExceptionResponse handle(Throwable exception) {
        if (vmError(exception)) {
            LOG.error("a stream thread died of a JVM error: shutting the Kafka Streams client down", exception);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        Throwable brokerAway = brokerAway(exception);
        if (brokerAway != null) {
            long backoffMs = brokerAwayBackoffMs();
            LOG.warnf(exception, "a stream thread failed because the broker did not answer (%s): replacing it in %d s; "
                    + "this does not count toward the crash limit (docs/failures.md)", brokerAway, backoffMs / 1000);
            try {
                sleeper.sleep(backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // the client is closing: replacing is then a no-op
            }
            brokerAwayCount.increment();
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        }
        return countedReplacement(exception);
    }

    private synchronized long brokerAwayBackoffMs() {
        long now = clockMs.getAsLong();
        expire(brokerAwayReplacements, now);
        int recent = brokerAwayReplacements.size();
        brokerAwayReplacements.addLast(now);
        long backoff = FIRST_BACKOFF.toMillis() << Math.min(recent, 20);
        return Math.min(backoff, MAX_BACKOFF.toMillis());
    }

    private synchronized StreamThreadExceptionResponse countedReplacement(Throwable exception) {
        long now = clockMs.getAsLong();
        expire(replacements, now);
        if (replacements.size() >= maxReplacements) {
            LOG.errorf(exception, "a stream thread failed again: %d replacements within %d s already, shutting the Kafka "
                    + "Streams client down (health DOWN)", replacements.size(), windowMs / 1000);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        replacements.addLast(now);
        otherCount.increment();
        LOG.errorf(exception, "a stream thread failed: replacing it (replacement %d of at most %d within %d s)",
                replacements.size(), maxReplacements, windowMs / 1000);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    private void expire(Deque<Long> times, long now) {
        while (!times.isEmpty() && now - times.peekFirst() >= windowMs) {
            times.removeFirst();
        }
    }

    /** The cause that says the broker did not answer (a client timeout ran out, a connection was lost), or null. */
    static Throwable brokerAway(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TimeoutException || t instanceof NetworkException || t instanceof DisconnectException || producerTimedOut(t)) {
                return t;
            }
        }
        return null;
    }

    /**
     * What the transactional producer says, without a {@link TimeoutException} as the cause, after one of
     * its timeouts ran out: sends that were never acknowledged within {@code delivery.timeout.ms} leave the
     * transaction in an abortable error ("The client hasn't received acknowledgment for some previously sent
     * messages ..."), and a commit that timed out must be retried before any other send (an
     * IllegalStateException thrown in the producer, reaching a step through a state store's changelog send).
     * Kafka's wording (4.1): were it to change, such a failure would count toward the crash limit again.
     */
    private static boolean producerTimedOut(Throwable t) {
        String message = t.getMessage();
        if (message == null) {
            return false;
        }
        if (t instanceof KafkaException && message.startsWith("The client hasn't received acknowledgment for some previously sent messages")) {
            return true;
        }
        StackTraceElement[] stack = t.getStackTrace();
        return t instanceof IllegalStateException && stack.length > 0
                && stack[0].getClassName().startsWith("org.apache.kafka.clients.producer.") && message.contains("timed out");
    }

    private static boolean vmError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof VirtualMachineError) {
                return true;
            }
        }
        return false;
    }
}
