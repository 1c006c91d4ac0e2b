package dev.millrace.core.template.jinja;

import java.util.List;
import java.util.Map;

/** Python's {@code ==} and {@code <}-family over template values (see {@link PyValues}). */
public final class PyComparison {
    private PyComparison() {
    }

    public static boolean eq(Object a, Object b) {
        if (a == b) {
            return !(a instanceof Double d && d.isNaN());
        }
        if (PyValues.isUndefined(a) || PyValues.isUndefined(b)) {
            return PyValues.isUndefined(a) && PyValues.isUndefined(b);
        }
        if (a == PyValues.NONE || b == PyValues.NONE) {
            return false;
        }
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            return compareNumbers(a, b) == 0;
        }
        if (a instanceof String sa && b instanceof String sb) {
            return sa.equals(sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb) {
            if ((a instanceof PyTuple) != (b instanceof PyTuple) || la.size() != lb.size()) {
                return false;
            }
            for (int i = 0; i < la.size(); i++) {
                if (!eq(PyValues.element(la.get(i)), PyValues.element(lb.get(i)))) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof Map<?, ?> ma && b instanceof Map<?, ?> mb) {
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Object key = PyValues.findKey(mb, e.getKey());
                if (key == PyValues.MISSING || !eq(PyValues.element(e.getValue()), PyValues.element(mb.get(key)))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    static int compareNumbers(Object a, Object b) {
        if (a instanceof Double || b instanceof Double) {
            double x = PyValues.toDouble(a);
            double y = PyValues.toDouble(b);
            if (Double.isNaN(x) || Double.isNaN(y) || Double.isInfinite(x) || Double.isInfinite(y)) {
                return Double.compare(x, y);
            }
            return PyValues.toBigDecimal(a).compareTo(PyValues.toBigDecimal(b));
        }
        return PyValues.toBig(a).compareTo(PyValues.toBig(b));
    }

    /** Python's {@code <}-family; returns sign of a - b or raises TypeError. */
    static int compare(Object a, Object b, String op) {
        if (PyValues.isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (PyValues.isUndefined(b)) {
            throw Undefined.errorFor(b);
        }
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            return compareNumbers(a, b);
        }
        if (a instanceof String sa && b instanceof String sb) {
            return compareStrings(sa, sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            int n = Math.min(la.size(), lb.size());
            for (int i = 0; i < n; i++) {
                Object x = PyValues.element(la.get(i));
                Object y = PyValues.element(lb.get(i));
                if (!eq(x, y)) {
                    return compare(x, y, op);
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw JinjaError.type("'" + op + "' not supported between instances of '" + PyValues.typeName(a) + "' and '" + PyValues.typeName(b) + "'");
    }

    static int compareStrings(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
