package dev.millrace.core.template.jinja;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * HF's {@code tojson}: Python's {@code json.dumps(value, ensure_ascii=False, indent=..., separators=...,
 * sort_keys=...)}: {@code ", "} / {@code ": "} separators, keys in insertion order, non-ASCII kept,
 * no HTML escaping, floats as Python's repr.
 */
final class Json {
    private final boolean ensureAscii;
    private final String indent;
    private final String itemSeparator;
    private final String keySeparator;
    private final boolean sortKeys;

    Json(boolean ensureAscii, String indent, String itemSeparator, String keySeparator, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        this.indent = indent;
        this.itemSeparator = itemSeparator;
        this.keySeparator = keySeparator;
        this.sortKeys = sortKeys;
    }

    /** The filter: {@code tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False)}. */
    static String dumps(Object value, Args a) {
        a.max(4).onlyKeywords("ensure_ascii", "indent", "separators", "sort_keys");
        boolean ensureAscii = PyValues.truth(a.opt(0, "ensure_ascii", false));
        Object indentArg = a.opt(1, "indent", PyValues.NONE);
        Object separators = a.opt(2, "separators", PyValues.NONE);
        boolean sortKeys = PyValues.truth(a.opt(3, "sort_keys", false));
        String indent = null;
        if (indentArg != PyValues.NONE && !PyValues.isUndefined(indentArg)) {
            if (indentArg instanceof String s) {
                indent = s;
            } else if (PyValues.isInt(indentArg)) {
                indent = " ".repeat((int) Math.max(0, PyValues.toIndex(indentArg, "indent")));
            } else {
                throw JinjaError.type("can't multiply sequence by non-int of type '" + PyValues.typeName(indentArg) + "'");
            }
        }
        String item = indent == null ? ", " : ",";
        String key = ": ";
        if (separators != PyValues.NONE && !PyValues.isUndefined(separators)) {
            if (!(separators instanceof List<?> seps) || seps.size() != 2) {
                throw JinjaError.value("separators must be a (item_separator, key_separator) pair");
            }
            item = Args.string(seps.get(0), "item separator");
            key = Args.string(seps.get(1), "key separator");
        }
        StringBuilder sb = new StringBuilder();
        new Json(ensureAscii, indent, item, key, sortKeys).write(sb, value, 0);
        return sb.toString();
    }

    private void newline(StringBuilder sb, int level) {
        sb.append('\n');
        for (int i = 0; i < level; i++) {
            sb.append(indent);
        }
    }

    void write(StringBuilder sb, Object v, int level) {
        if (v == PyValues.NONE) {
            sb.append("null");
        } else if (v instanceof Boolean b) {
            sb.append(b ? "true" : "false");
        } else if (v instanceof String s) {
            string(sb, s);
        } else if (v instanceof Long || v instanceof BigInteger || v instanceof Integer) {
            sb.append(v);
        } else if (v instanceof Double d) {
            sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyText.floatRepr(d));
        } else if (v instanceof List<?> list) {
            if (list.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    sb.append(itemSeparator);
                }
                if (indent != null) {
                    newline(sb, level + 1);
                }
                write(sb, PyValues.element(list.get(i)), level + 1);
            }
            if (indent != null) {
                newline(sb, level);
            }
            sb.append(']');
        } else if (v instanceof Map<?, ?> map) {
            if (map.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
            if (sortKeys) {
                entries.sort((x, y) -> PyComparison.compare(PyValues.element(x.getKey()), PyValues.element(y.getKey()), "<"));
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) {
                    sb.append(itemSeparator);
                }
                first = false;
                if (indent != null) {
                    newline(sb, level + 1);
                }
                string(sb, key(PyValues.element(e.getKey())));
                sb.append(keySeparator);
                write(sb, PyValues.element(e.getValue()), level + 1);
            }
            if (indent != null) {
                newline(sb, level);
            }
            sb.append('}');
        } else {
            throw JinjaError.type("Object of type " + PyValues.typeName(v) + " is not JSON serializable");
        }
    }

    private static String key(Object k) {
        if (k instanceof String s) {
            return s;
        }
        if (k instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (k == PyValues.NONE) {
            return "null";
        }
        if (k instanceof Double d) {
            return Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : PyText.floatRepr(d);
        }
        if (PyValues.isInt(k)) {
            return PyValues.toBig(k).toString();
        }
        throw JinjaError.type("keys must be str, int, float, bool or None, not " + PyValues.typeName(k));
    }

    private void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
