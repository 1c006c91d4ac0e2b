package dev.millrace.streams.health;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The records the steps of this JVM are processing right now, each with when it started, so that a
 * step stuck on one record can be seen ({@link StuckRecordCheck}). A step registers a record when it
 * starts on it and removes it when done, whatever the outcome; one JVM runs one Kafka Streams app,
 * so one shared instance ({@link #shared()}) serves every step processor of it.
 */
public final class RecordsInProcess {
    private static final RecordsInProcess SHARED = new RecordsInProcess(System::nanoTime);

    private final LongSupplier nanoClock;
    private final Map<Started, Boolean> current = new ConcurrentHashMap<>();

    /** @param nanoClock a monotonic clock in nanoseconds (tests pass their own) */
    public RecordsInProcess(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    /** The instance every step processor of this JVM reports to. */
    public static RecordsInProcess shared() {
        return SHARED;
    }

    /**
     * A step starts on a record.
     *
     * @param step the service and stage, e.g. {@code chat-template/sft}
     * @param record where the record was read, {@code topic-partition@offset}
     */
    public Started start(String step, String record) {
        Started started = new Started(this, step, record, nanoClock.getAsLong());
        current.put(started, Boolean.TRUE);
        return started;
    }

    /** One record in process: {@link #done()} when the step is through with it. */
    public static final class Started {
        private final RecordsInProcess owner;
        private final String step;
        private final String record;
        private final long startNanos;

        private Started(RecordsInProcess owner, String step, String record, long startNanos) {
            this.owner = owner;
            this.step = step;
            this.record = record;
            this.startNanos = startNanos;
        }

        public void done() {
            owner.current.remove(this);
        }
    }

    /** A record in process: the step, the record, and for how long. */
    public record Stuck(String step, String record, Duration inProcessFor) {
    }

    /** The records in process for longer than {@code limit}, longest first. */
    public List<Stuck> longerThan(Duration limit) {
        return inProcess(limit.toNanos());
    }

    /** Every record in process now, longest first. */
    public List<Stuck> current() {
        return inProcess(Long.MIN_VALUE);
    }

    private List<Stuck> inProcess(long longerThanNanos) {
        long now = nanoClock.getAsLong();
        List<Stuck> out = new ArrayList<>();
        for (Started s : current.keySet()) {
            long nanos = now - s.startNanos;
            if (nanos > longerThanNanos) {
                out.add(new Stuck(s.step, s.record, Duration.ofNanos(nanos)));
            }
        }
        out.sort(Comparator.comparing(Stuck::inProcessFor).reversed());
        return out;
    }

    /** How many records are in process now. */
    public int size() {
        return current.size();
    }
}
