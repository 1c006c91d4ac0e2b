package dev.millrace.core.template.jinja;

import java.util.List;
import java.util.Map;

/** Positional and keyword arguments of a call, bound like a Python signature. */
final class Args {
    final String function;
    final List<Object> positional;
    final Map<String, Object> keywords;

    Args(String function, List<Object> positional, Map<String, Object> keywords) {
        this.function = function;
        this.positional = positional;
        this.keywords = keywords == null ? Map.of() : keywords;
    }

    int size() {
        return positional.size();
    }

    /** Raises TypeError when more than {@code n} positional arguments were given. */
    Args max(int n) {
        if (positional.size() > n) {
            throw JinjaError.type(function + "() takes at most " + n + " argument" + (n == 1 ? "" : "s") + " ("
                    + positional.size() + " given)");
        }
        return this;
    }

    boolean has(int index, String name) {
        return index < positional.size() || keywords.containsKey(name);
    }

    Object opt(int index, String name, Object fallback) {
        if (index >= 0 && index < positional.size()) {
            if (keywords.containsKey(name)) {
                throw JinjaError.type(function + "() got multiple values for argument '" + name + "'");
            }
            return positional.get(index);
        }
        return keywords.containsKey(name) ? keywords.get(name) : fallback;
    }

    Object required(int index, String name) {
        if (!has(index, name)) {
            throw JinjaError.type(function + "() missing required argument '" + name + "'");
        }
        return opt(index, name, null);
    }

    /** Keywords not in {@code known} are a TypeError, as in Python. */
    Args onlyKeywords(String... known) {
        for (String k : keywords.keySet()) {
            boolean ok = false;
            for (String n : known) {
                ok |= n.equals(k);
            }
            if (!ok) {
                throw JinjaError.type(function + "() got an unexpected keyword argument '" + k + "'");
            }
        }
        return this;
    }

    static String string(Object o, String what) {
        if (o instanceof String s) {
            return s;
        }
        throw JinjaError.type(what + " must be str, not " + PyValues.typeName(o));
    }

    static long integer(Object o, String what) {
        if (PyValues.isInt(o)) {
            return PyValues.toIndex(o, what);
        }
        throw JinjaError.type("'" + PyValues.typeName(o) + "' object cannot be interpreted as an integer");
    }
}
