package dev.millrace.core.template.jinja;

import java.time.Duration;

/**
 * A point in time after which rendering stops: the interpreter checks it cooperatively (at nodes and
 * loop iterations, reading the clock only every {@link #CHECK_EVERY} of them), so a template or a
 * record that would render for a long time ends with {@link Exceeded} instead of holding its thread.
 * One deadline may span several renders (all the renders one record needs).
 */
public final class Deadline {
    /** Never passes. */
    public static final Deadline NONE = new Deadline(Long.MAX_VALUE, Duration.ZERO);
    /** How many ticks go by between clock readings: a tick is cheap, {@link System#nanoTime} less so. */
    static final int CHECK_EVERY = 256;

    private final long deadlineNanos;
    private final Duration budget;

    private Deadline(long deadlineNanos, Duration budget) {
        this.deadlineNanos = deadlineNanos;
        this.budget = budget;
    }

    /** A deadline {@code budget} from now. */
    public static Deadline after(Duration budget) {
        if (budget.isNegative() || budget.isZero()) {
            throw new IllegalArgumentException("a time budget must be positive, not " + budget);
        }
        long now = System.nanoTime();
        long nanos = budget.compareTo(Duration.ofDays(365)) > 0 ? Long.MAX_VALUE / 2 : budget.toNanos();
        return new Deadline(now + nanos, budget);
    }

    /** The budget this deadline was set with (zero for {@link #NONE}). */
    public Duration budget() {
        return budget;
    }

    /** @throws Exceeded when the deadline has passed */
    public void check() {
        if (this != NONE && System.nanoTime() - deadlineNanos > 0) {
            throw new Exceeded(budget);
        }
    }

    /** Rendering went past its deadline; not a template error, so it is never caught as one. */
    public static final class Exceeded extends RuntimeException {
        private final Duration budget;

        Exceeded(Duration budget) {
            super("the time budget of " + budget + " is used up", null, false, false);
            this.budget = budget;
        }

        public Duration budget() {
            return budget;
        }
    }
}
