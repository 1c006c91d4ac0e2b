package dev.millrace.core.template.jinja;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/** An immutable Python tuple (prints as {@code (a, b)}). */
final class PyTuple extends AbstractList<Object> implements RandomAccess {
    private final Object[] items;

    PyTuple(List<?> items) {
        this.items = items.toArray();
    }

    static PyTuple of(Object... items) {
        return new PyTuple(java.util.Arrays.asList(items));
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }
}
