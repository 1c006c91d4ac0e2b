package dev.millrace.streams.failure;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.jboss.logging.Logger;

/**
 * The uncaught-exception handler of a step's Kafka Streams client (each service produces one as a
 * CDI bean; Quarkus installs it). A failed stream thread is replaced: its tasks go on from their
 * last commit, so under exactly-once nothing is lost or repeated, and a passing fault (a broker
 * that went away) heals by itself. A fault that comes back every time would make that a loop that
 * looks alive, so after {@value #MAX_REPLACEMENTS} replacements within {@link #WINDOW} the client
 * shuts down instead: its state becomes ERROR, health reports DOWN, and the orchestrator restarts
 * the service or an operator looks. An {@link VirtualMachineError} (out of memory) shuts it down at once.
 */
public final class StreamThreadFailureHandler implements StreamsUncaughtExceptionHandler {
    private static final Logger LOG = Logger.getLogger(StreamThreadFailureHandler.class);
    public static final int MAX_REPLACEMENTS = 5;
    public static final Duration WINDOW = Duration.ofMinutes(10);

    private final int maxReplacements;
    private final long windowMs;
    private final LongSupplier clockMs;
    /** When the recent replacements happened, oldest first, all within the window. */
    private final Deque<Long> replacements = new ArrayDeque<>();

    public StreamThreadFailureHandler() {
        this(MAX_REPLACEMENTS, WINDOW, System::currentTimeMillis);
    }

    StreamThreadFailureHandler(int maxReplacements, Duration window, LongSupplier clockMs) {
        this.maxReplacements = maxReplacements;
        this.windowMs = window.toMillis();
        this.clockMs = clockMs;
    }

    @Override
    public synchronized StreamThreadExceptionResponse handle(Throwable exception) {
        if (vmError(exception)) {
            LOG.error("a stream thread died of a JVM error: shutting the Kafka Streams client down", exception);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        long now = clockMs.getAsLong();
        while (!replacements.isEmpty() && now - replacements.peekFirst() >= windowMs) {
            replacements.removeFirst();
        }
        if (replacements.size() >= maxReplacements) {
            LOG.errorf(exception, "a stream thread failed again: %d replacements within %d s already, shutting the Kafka "
                    + "Streams client down (health DOWN)", replacements.size(), windowMs / 1000);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        }
        replacements.addLast(now);
        LOG.errorf(exception, "a stream thread failed: replacing it (replacement %d of at most %d within %d s)",
                replacements.size(), maxReplacements, windowMs / 1000);
        return StreamThreadExceptionResponse.REPLACE_THREAD;
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
