package dev.millrace.core.template.jinja;

import java.util.AbstractList;
import java.util.RandomAccess;

/** Python's {@code range(...)}, limited like Jinja2's sandbox (MAX_RANGE = 100000). */
final class PyRange extends AbstractList<Object> implements RandomAccess {
    static final int MAX_RANGE = 100000;
    private final long start;
    private final long stop;
    private final long step;
    private final int size;

    PyRange(long start, long stop, long step) {
        if (step == 0) {
            throw JinjaError.value("range() arg 3 must not be zero");
        }
        this.start = start;
        this.stop = stop;
        this.step = step;
        long n = step > 0 ? (stop - start + step - 1) / step : (start - stop - step - 1) / -step;
        n = Math.max(0, n);
        if (n > MAX_RANGE) {
            throw new JinjaError("OverflowError", "Range too big. The sandbox blocks ranges larger than MAX_RANGE (" + MAX_RANGE + ").");
        }
        this.size = (int) n;
    }

    @Override
    public Object get(int index) {
        return start + index * step;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String toString() {
        return step == 1 ? "range(" + start + ", " + stop + ")" : "range(" + start + ", " + stop + ", " + step + ")";
    }
}
