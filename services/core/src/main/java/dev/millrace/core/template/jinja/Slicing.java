package dev.millrace.core.template.jinja;

import java.util.ArrayList;
import java.util.List;

/** Python slice semantics for lists, tuples and strings (strings by code point). */
final class Slicing {
    private Slicing() {
    }

    static Object slice(Object seq, PySlice slice) {
        if (seq instanceof String s) {
            int[] cps = s.codePoints().toArray();
            int[] idx = indices(cps.length, slice);
            StringBuilder sb = new StringBuilder();
            for (int i : idx) {
                sb.appendCodePoint(cps[i]);
            }
            return sb.toString();
        }
        List<?> list = (List<?>) seq;
        List<Object> out = new ArrayList<>();
        for (int i : indices(list.size(), slice)) {
            out.add(PyValues.element(list.get(i)));
        }
        return seq instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static Long bound(Object o) {
        if (o == null || o == PyValues.NONE) {
            return null;
        }
        if (PyValues.isUndefined(o)) {
            throw JinjaError.type("slice indices must be integers or None or have an __index__ method");
        }
        return PyValues.toIndex(o, "slice indices");
    }

    /** The indices {@code range(len)[slice]} selects, as CPython's PySlice_AdjustIndices does. */
    static int[] indices(int length, PySlice slice) {
        Long stepValue = bound(slice.step());
        long step = stepValue == null ? 1 : stepValue;
        if (step == 0) {
            throw JinjaError.value("slice step cannot be zero");
        }
        Long startValue = bound(slice.start());
        Long stopValue = bound(slice.stop());
        long start;
        long stop;
        if (step > 0) {
            start = startValue == null ? 0 : adjust(startValue, length, 0, length);
            stop = stopValue == null ? length : adjust(stopValue, length, 0, length);
        } else {
            start = startValue == null ? length - 1 : adjust(startValue, length, -1, length - 1);
            stop = stopValue == null ? -1 : adjust(stopValue, length, -1, length - 1);
        }
        List<Integer> out = new ArrayList<>();
        if (step > 0) {
            for (long i = start; i < stop; i += step) {
                out.add((int) i);
            }
        } else {
            for (long i = start; i > stop; i += step) {
                out.add((int) i);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long adjust(long index, int length, long low, long high) {
        if (index < 0) {
            index += length;
            if (index < 0) {
                return low;
            }
            return index;
        }
        return Math.min(index, high);
    }
}
