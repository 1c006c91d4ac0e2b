package dev.millrace.core.template.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Jinja2 3.1's built-in filters with their Python semantics, plus HF's {@code tojson}. */
final class Filters {
    interface Fn {
        Object apply(Object value, Args args, Env env);
    }

    private static final Map<String, Fn> FILTERS = new HashMap<>();

    /** Jinja2 filters Millrace does not implement: using one is an error, never a silent difference. */
    private static final Set<String> UNSUPPORTED = Set.of("filesizeformat", "groupby", "pprint", "random", "urlencode",
            "urlize", "wordwrap", "xmlattr");

    private Filters() {
    }

    static Fn get(String name) {
        return FILTERS.get(name);
    }

    /** Whether Jinja2 under HF's settings knows this filter (used for compile-time checks). */
    static boolean known(String name) {
        return FILTERS.containsKey(name);
    }

    private static void register(Fn fn, String... names) {
        for (String n : names) {
            FILTERS.put(n, fn);
        }
    }

    static {
        register((v, a, e) -> Json.dumps(v, a), "tojson");
        register((v, a, e) -> {
            a.max(0);
            if (PyValues.isUndefined(v)) {
                throw Undefined.errorFor(v);
            }
            if (v instanceof Double d) {
                return Math.abs(d);
            }
            if (PyValues.isInt(v)) {
                return PyValues.normInt(PyValues.toBig(v).abs());
            }
            throw JinjaError.type("bad operand type for abs(): '" + PyValues.typeName(v) + "'");
        }, "abs");
        register((v, a, e) -> {
            String name = Args.string(a.required(0, "name"), "attribute name");
            if (v instanceof java.util.Map<?, ?> && !Methods.has(v, name)) {
                return Undefined.attribute(v, name);
            }
            return PyValues.getattr(v, name);
        }, "attr");
        register((v, a, e) -> {
            long size = Args.integer(a.required(0, "linecount"), "linecount");
            Object fill = a.opt(1, "fill_with", PyValues.NONE);
            List<Object> out = new ArrayList<>();
            List<Object> tmp = new ArrayList<>();
            for (Object item : PyValues.iterate(v)) {
                if (tmp.size() == size) {
                    out.add(tmp);
                    tmp = new ArrayList<>();
                }
                tmp.add(item);
            }
            if (!tmp.isEmpty()) {
                if (fill != PyValues.NONE && tmp.size() < size) {
                    while (tmp.size() < size) {
                        tmp.add(fill);
                    }
                }
                out.add(tmp);
            }
            return out;
        }, "batch");
        register((v, a, e) -> Strings.capitalize(PyText.str(v)), "capitalize");
        register((v, a, e) -> Strings.call(PyText.str(v), "center", new Args("center", List.of(a.opt(0, "width", 80L)), Map.of())), "center");
        register((v, a, e) -> PyValues.len(v), "length", "count");
        register((v, a, e) -> {
            a.max(2).onlyKeywords("default_value", "boolean");
            Object fallback = a.opt(0, "default_value", "");
            boolean bool = PyValues.truth(a.opt(1, "boolean", false));
            return PyValues.isUndefined(v) || (bool && !PyValues.truth(v)) ? fallback : v;
        }, "default", "d");
        register(Filters::dictsort, "dictsort");
        register((v, a, e) -> escape(v), "escape", "e", "forceescape");
        register((v, a, e) -> {
            List<Object> items = PyValues.iterate(v);
            return items.isEmpty() ? Undefined.because("No first item, sequence was empty.") : items.get(0);
        }, "first");
        register((v, a, e) -> {
            if (PyValues.isUndefined(v)) {
                throw Undefined.errorFor(v);
            }
            List<Object> items = PyValues.iterate(v);
            return items.isEmpty() ? Undefined.because("No last item, sequence was empty.") : items.get(items.size() - 1);
        }, "last");
        register((v, a, e) -> toFloat(v, a.opt(0, "default", 0.0)), "float");
        register((v, a, e) -> toInt(v, a.opt(0, "default", 0L), Args.integer(a.opt(1, "base", 10L), "base")), "int");
        register((v, a, e) -> {
            if (!a.keywords.isEmpty() && !a.positional.isEmpty()) {
                throw JinjaError.runtime("can't handle positional and keyword arguments at the same time");
            }
            Object args = a.keywords.isEmpty() ? new PyTuple(a.positional) : new LinkedHashMap<>(a.keywords);
            return PyArithmetic.mod(PyText.str(v), args);
        }, "format");
        register(Filters::indent, "indent");
        register((v, a, e) -> {
            if (PyValues.isUndefined(v)) {
                return List.of();
            }
            if (!(v instanceof Map<?, ?> map)) {
                throw JinjaError.runtime("Can only get item pairs from a mapping.");
            }
            List<Object> out = new ArrayList<>();
            map.forEach((k, x) -> out.add(PyTuple.of(PyValues.element(k), PyValues.element(x))));
            return out;
        }, "items");
        register((v, a, e) -> {
            String sep = PyText.str(a.opt(0, "d", ""));
            Object attribute = a.opt(1, "attribute", PyValues.NONE);
            StringBuilder sb = new StringBuilder();
            boolean first = true;
            for (Object item : PyValues.iterate(v)) {
                if (!first) {
                    sb.append(sep);
                }
                first = false;
                sb.append(PyText.str(attribute == PyValues.NONE ? item : attrGetter(item, attribute, null)));
            }
            return sb.toString();
        }, "join");
        register((v, a, e) -> PyValues.iterate(v), "list");
        register((v, a, e) -> Methods.lower(PyText.str(v)), "lower");
        register((v, a, e) -> Methods.upper(PyText.str(v)), "upper");
        register((v, a, e) -> jinjaTitle(PyText.str(v)), "title");
        register((v, a, e) -> {
            Object chars = a.opt(0, "chars", PyValues.NONE);
            return Strings.strip(PyText.str(v), chars == PyValues.NONE ? null : Args.string(chars, "chars"), true, true);
        }, "trim");
        register((v, a, e) -> {
            String s = PyText.str(v);
            String old = PyText.str(a.required(0, "old"));
            String rep = PyText.str(a.required(1, "new"));
            Object count = a.opt(2, "count", PyValues.NONE);
            return Strings.replace(s, old, rep, count == PyValues.NONE ? -1 : Args.integer(count, "count"));
        }, "replace");
        register((v, a, e) -> {
            if (v instanceof String s) {
                return new StringBuilder(s).reverse().toString();
            }
            List<Object> items = PyValues.iterate(v);
            java.util.Collections.reverse(items);
            return items;
        }, "reverse");
        register(Filters::round, "round");
        register((v, a, e) -> PyText.str(v), "safe", "string");
        register((v, a, e) -> {
            Matcher m = Pattern.compile("(<!--.*?-->|<[^>]*>)", Pattern.DOTALL).matcher(PyText.str(v));
            String stripped = m.replaceAll("");
            List<Object> words = Strings.splitWhitespace(unescape(stripped), -1);
            StringBuilder sb = new StringBuilder();
            for (Object w : words) {
                if (sb.length() > 0) {
                    sb.append(' ');
                }
                sb.append(w);
            }
            return sb.toString();
        }, "striptags");
        register((v, a, e) -> {
            Object attribute = a.opt(0, "attribute", PyValues.NONE);
            Object total = a.opt(1, "start", 0L);
            for (Object item : PyValues.iterate(v)) {
                total = PyArithmetic.add(total, attribute == PyValues.NONE ? item : attrGetter(item, attribute, null));
            }
            return total;
        }, "sum");
        register(Filters::truncate, "truncate");
        register((v, a, e) -> (long) Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS).matcher(PyText.str(v)).results().count(), "wordcount");
        register((v, a, e) -> sorted(v, a, "sort"), "sort");
        register((v, a, e) -> unique(v, a), "unique");
        register((v, a, e) -> minMax(v, a, true), "min");
        register((v, a, e) -> minMax(v, a, false), "max");
        register((v, a, e) -> mapFilter(v, a, e), "map");
        register((v, a, e) -> select(v, a, e, false, true), "select");
        register((v, a, e) -> select(v, a, e, false, false), "reject");
        register((v, a, e) -> select(v, a, e, true, true), "selectattr");
        register((v, a, e) -> select(v, a, e, true, false), "rejectattr");
        register((v, a, e) -> {
            long slices = Args.integer(a.required(0, "slices"), "slices");
            Object fill = a.opt(1, "fill_with", PyValues.NONE);
            List<Object> seq = PyValues.iterate(v);
            int length = seq.size();
            int perSlice = (int) (length / slices);
            int withExtra = (int) (length % slices);
            int offset = 0;
            List<Object> out = new ArrayList<>();
            for (int i = 0; i < slices; i++) {
                int start = offset + i * perSlice;
                if (i < withExtra) {
                    offset++;
                }
                int end = offset + (i + 1) * perSlice;
                List<Object> tmp = new ArrayList<>(seq.subList(start, end));
                if (fill != PyValues.NONE && i >= withExtra) {
                    tmp.add(fill);
                }
                out.add(tmp);
            }
            return out;
        }, "slice");
        for (String name : UNSUPPORTED) {
            register((v, a, e) -> {
                throw JinjaError.unsupported("the '" + name + "' filter");
            }, name);
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    static String escape(Object v) {
        String s = PyText.str(v);
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&#34;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    private static String unescape(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", "\"").replace("&#39;", "'")
                .replace("&quot;", "\"").replace("&amp;", "&");
    }

    /** Jinja2's do_title: capitalise after "-", whitespace and opening brackets. */
    static String jinjaTitle(String s) {
        StringBuilder out = new StringBuilder();
        Matcher m = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS).matcher(s);
        int last = 0;
        List<String> parts = new ArrayList<>();
        while (m.find()) {
            parts.add(s.substring(last, m.start()));
            parts.add(m.group());
            last = m.end();
        }
        parts.add(s.substring(last));
        for (String item : parts) {
            if (item.isEmpty()) {
                continue;
            }
            int first = item.codePointAt(0);
            out.append(new String(Character.toChars(first)).toUpperCase(Locale.ROOT))
                    .append(item.substring(Character.charCount(first)).toLowerCase(Locale.ROOT));
        }
        return out.toString();
    }

    static Object toFloat(Object v, Object fallback) {
        if (v instanceof Double) {
            return v;
        }
        if (PyValues.isInt(v)) {
            return PyValues.toDouble(v);
        }
        if (v instanceof String s) {
            String t = Strings.strip(s, null, true, true).replace("_", "");
            String lower = t.toLowerCase(Locale.ROOT);
            switch (lower.startsWith("+") || lower.startsWith("-") ? lower.substring(1) : lower) {
                case "inf", "infinity" -> {
                    return lower.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
                }
                case "nan" -> {
                    return Double.NaN;
                }
                default -> {
                }
            }
            if (t.matches("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?")) {
                return Double.parseDouble(t);
            }
        }
        return fallback;
    }

    static Object toInt(Object v, Object fallback, long base) {
        if (v instanceof String s) {
            String t = Strings.strip(s, null, true, true);
            try {
                String digits = t.replace("_", "");
                if (base == 16 && (digits.startsWith("0x") || digits.startsWith("0X"))) {
                    digits = digits.substring(2);
                }
                if (!digits.isEmpty() && !t.startsWith("_") && !t.endsWith("_") && !t.contains("__")) {
                    return PyValues.normInt(new BigInteger(digits, (int) base));
                }
            } catch (NumberFormatException ignored) {
                // fall through to float(), as Jinja2 does
            }
            Object f = toFloat(v, null);
            if (f instanceof Double d && !d.isNaN() && !d.isInfinite()) {
                return PyValues.normInt(new BigDecimal(d).setScale(0, RoundingMode.DOWN).toBigInteger());
            }
            return fallback;
        }
        if (v instanceof Double d) {
            if (d.isNaN() || d.isInfinite()) {
                return fallback;
            }
            return PyValues.normInt(new BigDecimal(d).setScale(0, RoundingMode.DOWN).toBigInteger());
        }
        if (PyValues.isInt(v)) {
            return PyValues.normInt(PyValues.toBig(v));
        }
        return fallback;
    }

    private static Object indent(Object v, Args a, Env env) {
        Object width = a.opt(0, "width", 4L);
        boolean first = PyValues.truth(a.opt(1, "first", false));
        boolean blank = PyValues.truth(a.opt(2, "blank", false));
        String indention = width instanceof String w ? w : " ".repeat((int) Math.max(0, Args.integer(width, "width")));
        String s = PyText.str(v) + "\n";
        List<String> lines = Strings.splitlines(s, false);
        String rv;
        if (blank) {
            rv = String.join("\n" + indention, lines);
        } else {
            StringBuilder sb = new StringBuilder(lines.isEmpty() ? "" : lines.get(0));
            if (lines.size() > 1) {
                sb.append('\n');
                for (int i = 1; i < lines.size(); i++) {
                    if (i > 1) {
                        sb.append('\n');
                    }
                    String line = lines.get(i);
                    sb.append(line.isEmpty() ? line : indention + line);
                }
            }
            rv = sb.toString();
        }
        return first ? indention + rv : rv;
    }

    private static Object round(Object v, Args a, Env env) {
        long precision = Args.integer(a.opt(0, "precision", 0L), "precision");
        String method = PyText.str(a.opt(1, "method", "common"));
        if (!Set.of("common", "ceil", "floor").contains(method)) {
            throw JinjaError.runtime("method must be common, ceil or floor");
        }
        if (PyValues.isUndefined(v)) {
            throw Undefined.errorFor(v);
        }
        if (!PyValues.isNumber(v)) {
            throw JinjaError.type("type " + PyValues.typeName(v) + " doesn't define __round__ method");
        }
        if (method.equals("common")) {
            if (PyValues.isInt(v)) {
                return PyValues.normInt(PyValues.toBig(v));
            }
            double d = PyValues.toDouble(v);
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                return d;
            }
            return new BigDecimal(d).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
        }
        double factor = Math.pow(10, precision);
        double x = PyValues.toDouble(v) * factor;
        return (method.equals("ceil") ? Math.ceil(x) : Math.floor(x)) / factor;
    }

    private static Object truncate(Object v, Args a, Env env) {
        String s = PyText.str(v);
        long length = Args.integer(a.opt(0, "length", 255L), "length");
        boolean killwords = PyValues.truth(a.opt(1, "killwords", false));
        String end = PyText.str(a.opt(2, "end", "..."));
        Object leewayArg = a.opt(3, "leeway", PyValues.NONE);
        long leeway = leewayArg == PyValues.NONE ? 5 : Args.integer(leewayArg, "leeway");
        int endLen = end.codePointCount(0, end.length());
        if (length < endLen) {
            throw new JinjaError("AssertionError", "expected length >= " + endLen + ", got " + length);
        }
        if (leeway < 0) {
            throw new JinjaError("AssertionError", "expected leeway >= 0, got " + leeway);
        }
        int n = s.codePointCount(0, s.length());
        if (n <= length + leeway) {
            return s;
        }
        String head = (String) Slicing.slice(s, new PySlice(null, length - endLen, null));
        if (killwords) {
            return head + end;
        }
        return Strings.rsplit(head, " ", 1).get(0) + end;
    }

    /** Jinja2's make_attrgetter: dotted path, integer parts as indices, optional default. */
    static Object attrGetter(Object item, Object attribute, Object fallback) {
        List<Object> parts = new ArrayList<>();
        if (attribute instanceof String s) {
            for (String p : s.split("\\.", -1)) {
                parts.add(p.chars().allMatch(Character::isDigit) && !p.isEmpty() ? (Object) Long.parseLong(p) : p);
            }
        } else {
            parts.add(attribute);
        }
        Object v = item;
        for (Object p : parts) {
            v = PyValues.getitem(v, p);
            if (fallback != null && PyValues.isUndefined(v)) {
                v = fallback;
            }
        }
        return v;
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? Methods.lower(s) : v;
    }

    private static Object dictsort(Object v, Args a, Env env) {
        boolean caseSensitive = PyValues.truth(a.opt(0, "case_sensitive", false));
        String by = PyText.str(a.opt(1, "by", "key"));
        boolean reverse = PyValues.truth(a.opt(2, "reverse", false));
        if (!(v instanceof Map<?, ?> map)) {
            throw JinjaError.type("dictsort filter needs a mapping");
        }
        int pos = switch (by) {
            case "key" -> 0;
            case "value" -> 1;
            default -> throw new JinjaError("FilterArgumentError", "You can only sort by either \"key\" or \"value\"");
        };
        List<Object> items = new ArrayList<>();
        map.forEach((k, x) -> items.add(PyTuple.of(PyValues.element(k), PyValues.element(x))));
        Comparator<Object> cmp = (x, y) -> PyComparison.compare(sortKey(((PyTuple) x).get(pos), caseSensitive),
                sortKey(((PyTuple) y).get(pos), caseSensitive), "<");
        items.sort(reverse ? cmp.reversed() : cmp);
        return items;
    }

    private static List<Object> sorted(Object v, Args a, String name) {
        boolean reverse = PyValues.truth(a.opt(0, "reverse", false));
        boolean caseSensitive = PyValues.truth(a.opt(1, "case_sensitive", false));
        Object attribute = a.opt(2, "attribute", PyValues.NONE);
        List<Object> items = PyValues.iterate(v);
        List<Object> attrs = new ArrayList<>();
        if (attribute != PyValues.NONE) {
            for (String part : PyText.str(attribute).split(",")) {
                attrs.add(part.strip());
            }
        }
        Comparator<Object> cmp = (x, y) -> {
            if (attrs.isEmpty()) {
                return PyComparison.compare(sortKey(x, caseSensitive), sortKey(y, caseSensitive), "<");
            }
            for (Object attr : attrs) {
                int c = PyComparison.compare(sortKey(attrGetter(x, attr, null), caseSensitive), sortKey(attrGetter(y, attr, null), caseSensitive), "<");
                if (c != 0) {
                    return c;
                }
            }
            return 0;
        };
        List<Object> out = new ArrayList<>(items);
        out.sort(reverse ? cmp.reversed() : cmp);
        return out;
    }

    private static List<Object> unique(Object v, Args a) {
        boolean caseSensitive = PyValues.truth(a.opt(0, "case_sensitive", false));
        Object attribute = a.opt(1, "attribute", PyValues.NONE);
        List<Object> out = new ArrayList<>();
        List<Object> seen = new ArrayList<>();
        for (Object item : PyValues.iterate(v)) {
            Object key = sortKey(attribute == PyValues.NONE ? item : attrGetter(item, attribute, null), caseSensitive);
            boolean dup = false;
            for (Object s : seen) {
                dup |= PyComparison.eq(s, key);
            }
            if (!dup) {
                seen.add(key);
                out.add(item);
            }
        }
        return out;
    }

    private static Object minMax(Object v, Args a, boolean min) {
        boolean caseSensitive = PyValues.truth(a.opt(0, "case_sensitive", false));
        Object attribute = a.opt(1, "attribute", PyValues.NONE);
        List<Object> items = PyValues.iterate(v);
        if (items.isEmpty()) {
            return Undefined.because("No aggregated item, sequence was empty.");
        }
        Object best = items.get(0);
        for (Object item : items.subList(1, items.size())) {
            Object kb = sortKey(attribute == PyValues.NONE ? best : attrGetter(best, attribute, null), caseSensitive);
            Object ki = sortKey(attribute == PyValues.NONE ? item : attrGetter(item, attribute, null), caseSensitive);
            int c = PyComparison.compare(ki, kb, "<");
            if (min ? c < 0 : c > 0) {
                best = item;
            }
        }
        return best;
    }

    private static Object mapFilter(Object v, Args a, Env env) {
        List<Object> items = PyValues.iterate(v);
        List<Object> out = new ArrayList<>(items.size());
        if (a.positional.isEmpty() && a.keywords.containsKey("attribute")) {
            Object attribute = a.keywords.get("attribute");
            Object fallback = a.keywords.get("default");
            for (Object item : items) {
                out.add(attrGetter(item, attribute, fallback));
            }
            return out;
        }
        if (a.positional.isEmpty()) {
            throw JinjaError.runtime("map requires a filter argument");
        }
        String name = PyText.str(a.positional.get(0));
        Fn fn = get(name);
        if (fn == null) {
            throw JinjaError.runtime("No filter named '" + name + "' found.");
        }
        Args rest = new Args(name, a.positional.subList(1, a.positional.size()), a.keywords);
        for (Object item : items) {
            out.add(fn.apply(item, rest, env));
        }
        return out;
    }

    private static Object select(Object v, Args a, Env env, boolean byAttr, boolean keep) {
        List<Object> items = PyValues.iterate(v);
        int off = 0;
        Object attribute = null;
        if (byAttr) {
            if (a.positional.isEmpty()) {
                throw JinjaError.type("Missing parameter for attribute name");
            }
            attribute = a.positional.get(0);
            off = 1;
        }
        Tests.Fn test = null;
        Args testArgs = null;
        if (a.positional.size() > off) {
            String name = PyText.str(a.positional.get(off));
            test = Tests.get(name);
            if (test == null) {
                throw JinjaError.runtime("No test named '" + name + "' found.");
            }
            testArgs = new Args(name, a.positional.subList(off + 1, a.positional.size()), a.keywords);
        }
        List<Object> out = new ArrayList<>();
        for (Object item : items) {
            Object x = byAttr ? attrGetter(item, attribute, null) : item;
            boolean ok = test == null ? PyValues.truth(x) : test.test(x, testArgs);
            if (ok == keep) {
                out.add(item);
            }
        }
        return out;
    }
}
