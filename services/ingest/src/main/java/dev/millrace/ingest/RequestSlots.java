package dev.millrace.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.concurrent.Semaphore;

/**
 * How many HTTP bodies ingest reads at once ({@code millrace.ingest.max-concurrent-requests}): each
 * holds a bounded amount of memory while it is read and sent, so this bounds the total. A request that
 * finds every slot taken is refused at once (429 with {@code Retry-After}) rather than queued: a queue of
 * waiting bodies would hold memory and connections of its own.
 */
@Singleton
public class RequestSlots {
    /** The {@code Retry-After} of a 429: a slot frees as soon as a body is read and acknowledged. */
    static final int RETRY_AFTER_SECONDS = 1;

    private final int slots;
    private final Semaphore free;
    private final Counter refused;

    @Inject
    RequestSlots(IngestConfig config, MeterRegistry registry) {
        this(config.ingest().maxConcurrentRequests(), registry);
    }

    RequestSlots(int slots, MeterRegistry registry) {
        this.slots = slots;
        this.free = new Semaphore(slots);
        Gauge.builder("millrace.ingest.requests.active", free, f -> slots - f.availablePermits())
                .description("HTTP bodies being read and sent now (at most millrace.ingest.max-concurrent-requests)")
                .register(registry);
        this.refused = Counter.builder("millrace.ingest.requests.refused")
                .description("HTTP requests answered 429 because every slot was taken").register(registry);
    }

    /** @return whether a slot was free (and is now the caller's, to {@link #release}) */
    boolean tryAcquire() {
        if (free.tryAcquire()) {
            return true;
        }
        refused.increment();
        return false;
    }

    void release() {
        free.release();
    }

    /** How many there are ({@code max-concurrent-requests}). */
    int slots() {
        return slots;
    }
}
