package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.lib.fn.MacroFunction;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for template values. Values are plain Java: String, Long/BigInteger (int),
 * Double (float), Boolean, {@link PyNone#NONE}, List (list), {@link PyTuple}, Map (dict), and
 * undefined as Java null or {@link Undefined}.
 */
public final class Py {
    public static final Object NONE = PyNone.NONE;

    private Py() {
    }

    // --- conversion ------------------------------------------------------------------------------

    /** Plain Java data (JSON-like, nulls allowed) as template values: null becomes None. */
    public static Object fromJava(Object value) {
        if (value == null) {
            return NONE;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(k, fromJava(v)));
            return Collections.unmodifiableMap(out);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object v : list) {
                out.add(fromJava(v));
            }
            return Collections.unmodifiableList(out);
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof Float f) {
            return f.doubleValue();
        }
        if (value instanceof BigDecimal d) {
            return d.doubleValue();
        }
        return value;
    }

    /** A value read out of a container: Java null inside data is None. */
    static Object element(Object value) {
        return value == null ? NONE : value;
    }

    // --- kinds -----------------------------------------------------------------------------------

    public static boolean isUndefined(Object o) {
        return o == null || o instanceof Undefined;
    }

    static boolean isNone(Object o) {
        return o == NONE;
    }

    static boolean isInt(Object o) {
        return o instanceof Long || o instanceof BigInteger || o instanceof Boolean || o instanceof Integer;
    }

    static boolean isNumber(Object o) {
        return isInt(o) || o instanceof Double;
    }

    static boolean isList(Object o) {
        return o instanceof List<?> && !(o instanceof PyTuple);
    }

    static String typeName(Object o) {
        if (isUndefined(o)) {
            return "Undefined";
        }
        if (o == NONE) {
            return "NoneType";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof Long || o instanceof BigInteger || o instanceof Integer) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof PyTuple) {
            return "tuple";
        }
        if (o instanceof List<?>) {
            return "list";
        }
        if (o instanceof Map<?, ?>) {
            return "dict";
        }
        if (o instanceof PyNamespace) {
            return "Namespace";
        }
        if (o instanceof PyLoop) {
            return "LoopContext";
        }
        if (o instanceof MacroFunction) {
            return "Macro";
        }
        if (o instanceof PyCallable) {
            return "builtin_function_or_method";
        }
        return o.getClass().getSimpleName();
    }

    /** Jinja2's object_type_repr: "None", "dict object", ... */
    static String objectTypeRepr(Object o) {
        if (o == NONE) {
            return "None";
        }
        return "'" + typeName(o) + " object'";
    }

    // --- truth, str, repr ------------------------------------------------------------------------

    public static boolean truth(Object o) {
        if (isUndefined(o) || o == NONE) {
            return false;
        }
        if (o instanceof Boolean b) {
            return b;
        }
        if (o instanceof Long l) {
            return l != 0;
        }
        if (o instanceof BigInteger b) {
            return b.signum() != 0;
        }
        if (o instanceof Double d) {
            return d != 0.0;
        }
        if (o instanceof Integer i) {
            return i != 0;
        }
        if (o instanceof String s) {
            return !s.isEmpty();
        }
        if (o instanceof List<?> l) {
            return !l.isEmpty();
        }
        if (o instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    /** Python {@code str(o)}; undefined prints as nothing. */
    public static String str(Object o) {
        if (isUndefined(o)) {
            return "";
        }
        if (o instanceof String s) {
            return s;
        }
        if (o instanceof PyNamespace ns) {
            return "<Namespace " + repr(ns.attributes) + ">";
        }
        if (o instanceof MacroFunction m) {
            return "<Macro '" + m.getName() + "'>";
        }
        if (o instanceof PyLoop || o instanceof PyCallable) {
            return o.toString();
        }
        return repr(o);
    }

    /** Python {@code repr(o)}. */
    public static String repr(Object o) {
        if (isUndefined(o)) {
            return "Undefined";
        }
        if (o instanceof String s) {
            return reprString(s);
        }
        if (o == NONE) {
            return "None";
        }
        if (o instanceof Boolean b) {
            return b ? "True" : "False";
        }
        if (o instanceof Double d) {
            return floatRepr(d);
        }
        if (o instanceof Long || o instanceof BigInteger || o instanceof Integer) {
            return o.toString();
        }
        if (o instanceof PyTuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append(repr(t.get(i)));
            }
            return sb.append(t.size() == 1 ? ",)" : ")").toString();
        }
        if (o instanceof PyRange r) {
            return r.toString();
        }
        if (o instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(", ");
                }
                sb.append(repr(element(l.get(i))));
            }
            return sb.append(']').toString();
        }
        if (o instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            // (dicts print like Python's repr)
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(repr(element(e.getKey()))).append(": ").append(repr(element(e.getValue())));
            }
            return sb.append('}').toString();
        }
        if (o instanceof PyNamespace || o instanceof MacroFunction) {
            return str(o);
        }
        return String.valueOf(o);
    }

    static String reprString(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder(s.length() + 2).append(quote);
        s.codePoints().forEach(c -> {
            if (c == quote || c == '\\') {
                sb.append('\\').appendCodePoint(c);
            } else if (c == '\t') {
                sb.append("\\t");
            } else if (c == '\n') {
                sb.append("\\n");
            } else if (c == '\r') {
                sb.append("\\r");
            } else if (c < ' ' || c == 0x7f) {
                sb.append(String.format("\\x%02x", c));
            } else if (c < 0x7f || isPrintable(c)) {
                sb.appendCodePoint(c);
            } else if (c <= 0xff) {
                sb.append(String.format("\\x%02x", c));
            } else if (c <= 0xffff) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.append(String.format("\\U%08x", c));
            }
        });
        return sb.append(quote).toString();
    }

    /** Python's str.isprintable for one code point. */
    static boolean isPrintable(int c) {
        if (c == ' ') {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.CONTROL, Character.FORMAT, Character.SURROGATE, Character.PRIVATE_USE, Character.UNASSIGNED,
                 Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR, Character.SPACE_SEPARATOR -> false;
            default -> true;
        };
    }

    /** Python's repr of a float: the shortest digits that round-trip, in Python's layout. */
    public static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        }
        if (d == 0.0) {
            return (1.0 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal shortest = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (r.doubleValue() == d) {
                shortest = r;
                break;
            }
        }
        shortest = shortest.stripTrailingZeros();
        String digits = shortest.unscaledValue().abs().toString();
        int n = digits.length();
        int decpt = n - shortest.scale();
        StringBuilder sb = new StringBuilder();
        if (d < 0) {
            sb.append('-');
        }
        if (decpt <= -4 || decpt > 16) {
            int exp = decpt - 1;
            sb.append(digits.charAt(0));
            if (n > 1) {
                sb.append('.').append(digits, 1, n);
            }
            sb.append('e').append(exp < 0 ? '-' : '+');
            int abs = Math.abs(exp);
            if (abs < 10) {
                sb.append('0');
            }
            sb.append(abs);
        } else if (decpt <= 0) {
            sb.append("0.").append("0".repeat(-decpt)).append(digits);
        } else if (decpt >= n) {
            sb.append(digits).append("0".repeat(decpt - n)).append(".0");
        } else {
            sb.append(digits, 0, decpt).append('.').append(digits, decpt, n);
        }
        return sb.toString();
    }

    // --- equality and ordering -------------------------------------------------------------------

    public static boolean eq(Object a, Object b) {
        if (a == b) {
            return !(a instanceof Double d && d.isNaN());
        }
        if (isUndefined(a) || isUndefined(b)) {
            return isUndefined(a) && isUndefined(b);
        }
        if (a == NONE || b == NONE) {
            return false;
        }
        if (isNumber(a) && isNumber(b)) {
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
                if (!eq(element(la.get(i)), element(lb.get(i)))) {
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
                Object key = findKey(mb, e.getKey());
                if (key == MISSING || !eq(element(e.getValue()), element(mb.get(key)))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    private static final Object MISSING = new Object();

    /** The key of {@code map} equal to {@code key} in Python's sense, or MISSING. */
    static Object findKey(Map<?, ?> map, Object key) {
        if (map.containsKey(key)) {
            return key;
        }
        if (isNumber(key) || key == NONE) {
            for (Object k : map.keySet()) {
                if (eq(element(k), key)) {
                    return k;
                }
            }
        }
        return MISSING;
    }

    static Object findKeyOrSelf(Map<?, ?> map, Object key) {
        Object k = findKey(map, key);
        return k == MISSING ? key : k;
    }

    static boolean hasKey(Map<?, ?> map, Object key) {
        return findKey(map, key) != MISSING;
    }

    static Object getKey(Map<?, ?> map, Object key) {
        Object k = findKey(map, key);
        return k == MISSING ? MISSING_VALUE : element(map.get(k));
    }

    static final Object MISSING_VALUE = MISSING;

    static int compareNumbers(Object a, Object b) {
        if (a instanceof Double || b instanceof Double) {
            double x = toDouble(a);
            double y = toDouble(b);
            if (Double.isNaN(x) || Double.isNaN(y) || Double.isInfinite(x) || Double.isInfinite(y)) {
                return Double.compare(x, y);
            }
            return toBigDecimal(a).compareTo(toBigDecimal(b));
        }
        return toBig(a).compareTo(toBig(b));
    }

    /** Python's {@code <}-family; returns sign of a - b or raises TypeError. */
    static int compare(Object a, Object b, String op) {
        if (isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (isUndefined(b)) {
            throw Undefined.errorFor(b);
        }
        if (isNumber(a) && isNumber(b)) {
            return compareNumbers(a, b);
        }
        if (a instanceof String sa && b instanceof String sb) {
            return compareStrings(sa, sb);
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            int n = Math.min(la.size(), lb.size());
            for (int i = 0; i < n; i++) {
                Object x = element(la.get(i));
                Object y = element(lb.get(i));
                if (!eq(x, y)) {
                    return compare(x, y, op);
                }
            }
            return Integer.compare(la.size(), lb.size());
        }
        throw JinjaError.type("'" + op + "' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
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

    // --- numbers ---------------------------------------------------------------------------------

    static BigInteger toBig(Object o) {
        if (o instanceof BigInteger b) {
            return b;
        }
        if (o instanceof Boolean b) {
            return b ? BigInteger.ONE : BigInteger.ZERO;
        }
        return BigInteger.valueOf(((Number) o).longValue());
    }

    static double toDouble(Object o) {
        if (o instanceof Boolean b) {
            return b ? 1.0 : 0.0;
        }
        return ((Number) o).doubleValue();
    }

    static BigDecimal toBigDecimal(Object o) {
        if (o instanceof Double d) {
            return new BigDecimal(d);
        }
        return new BigDecimal(toBig(o));
    }

    static Object normInt(BigInteger b) {
        return b.bitLength() < 64 ? (Object) b.longValue() : b;
    }

    /** An int (Long) from a Python int-like value; TypeError otherwise. */
    static long toIndex(Object o, String what) {
        if (o instanceof Long || o instanceof Integer || o instanceof Boolean) {
            return toBig(o).longValue();
        }
        if (o instanceof BigInteger b) {
            return b.longValue();
        }
        throw JinjaError.type(what + " must be integers or None or have an __index__ method");
    }

    private static void requireDefined(Object a, Object b) {
        if (isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (isUndefined(b)) {
            throw Undefined.errorFor(b);
        }
    }

    private static JinjaError unsupported(String op, Object a, Object b) {
        return JinjaError.type("unsupported operand type(s) for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static Object add(Object a, Object b) {
        requireDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) + toDouble(b);
            }
            return normInt(toBig(a).add(toBig(b)));
        }
        if (a instanceof String sa) {
            if (b instanceof String sb) {
                return sa + sb;
            }
            throw JinjaError.type("can only concatenate str (not \"" + typeName(b) + "\") to str");
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            List<Object> out = new ArrayList<>(la);
            out.addAll(lb);
            return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        if (isList(a)) {
            throw JinjaError.type("can only concatenate list (not \"" + typeName(b) + "\") to list");
        }
        throw unsupported("+", a, b);
    }

    static Object sub(Object a, Object b) {
        requireDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) - toDouble(b);
            }
            return normInt(toBig(a).subtract(toBig(b)));
        }
        throw unsupported("-", a, b);
    }

    static Object mul(Object a, Object b) {
        requireDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return toDouble(a) * toDouble(b);
            }
            return normInt(toBig(a).multiply(toBig(b)));
        }
        if (isInt(b) && (a instanceof String || a instanceof List<?>)) {
            return repeat(a, toIndex(b, "count"));
        }
        if (isInt(a) && (b instanceof String || b instanceof List<?>)) {
            return repeat(b, toIndex(a, "count"));
        }
        throw JinjaError.type("can't multiply sequence by non-int of type '" + typeName(b) + "'");
    }

    private static Object repeat(Object seq, long times) {
        if (seq instanceof String s) {
            return times <= 0 ? "" : s.repeat((int) times);
        }
        List<?> list = (List<?>) seq;
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < times; i++) {
            out.addAll(list);
        }
        return seq instanceof PyTuple ? new PyTuple(out) : out;
    }

    static Object truediv(Object a, Object b) {
        requireDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            double y = toDouble(b);
            if (y == 0.0) {
                throw new JinjaError("ZeroDivisionError", isInt(a) && isInt(b) ? "division by zero" : "float division by zero");
            }
            if (isInt(a) && isInt(b)) {
                return new BigDecimal(toBig(a)).divide(new BigDecimal(toBig(b)), MathContext.DECIMAL128).doubleValue();
            }
            return toDouble(a) / y;
        }
        throw unsupported("/", a, b);
    }

    static Object floordiv(Object a, Object b) {
        requireDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                double y = toDouble(b);
                if (y == 0.0) {
                    throw new JinjaError("ZeroDivisionError", "float floor division by zero");
                }
                return Math.floor(toDouble(a) / y);
            }
            BigInteger y = toBig(b);
            if (y.signum() == 0) {
                throw new JinjaError("ZeroDivisionError", "integer division or modulo by zero");
            }
            BigInteger[] qr = toBig(a).divideAndRemainder(y);
            BigInteger q = qr[0];
            if (qr[1].signum() != 0 && qr[1].signum() != y.signum()) {
                q = q.subtract(BigInteger.ONE);
            }
            return normInt(q);
        }
        throw unsupported("//", a, b);
    }

    static Object mod(Object a, Object b) {
        requireDefined(a, b);
        if (a instanceof String s) {
            return Format.percent(s, b);
        }
        if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                double x = toDouble(a);
                double y = toDouble(b);
                if (y == 0.0) {
                    throw new JinjaError("ZeroDivisionError", "float modulo");
                }
                double r = x % y;
                if (r != 0 && (r < 0) != (y < 0)) {
                    r += y;
                }
                return r;
            }
            BigInteger y = toBig(b);
            if (y.signum() == 0) {
                throw new JinjaError("ZeroDivisionError", "integer division or modulo by zero");
            }
            BigInteger r = toBig(a).mod(y.abs());
            if (y.signum() < 0 && r.signum() != 0) {
                r = r.add(y);
            }
            return normInt(r);
        }
        throw unsupported("%", a, b);
    }

    static Object pow(Object a, Object b) {
        requireDefined(a, b);
        if (isNumber(a) && isNumber(b)) {
            if (isInt(a) && isInt(b) && toBig(b).signum() >= 0) {
                return normInt(toBig(a).pow(toBig(b).intValueExact()));
            }
            double x = toDouble(a);
            if (x == 0.0 && toDouble(b) < 0) {
                throw new JinjaError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            }
            return Math.pow(x, toDouble(b));
        }
        throw unsupported("** or pow()", a, b);
    }

    static Object neg(Object a) {
        if (isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (a instanceof Double d) {
            return -d;
        }
        if (isInt(a)) {
            return normInt(toBig(a).negate());
        }
        throw JinjaError.type("bad operand type for unary -: '" + typeName(a) + "'");
    }

    static Object pos(Object a) {
        if (isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (a instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        if (isNumber(a)) {
            return a;
        }
        throw JinjaError.type("bad operand type for unary +: '" + typeName(a) + "'");
    }

    // --- containers ------------------------------------------------------------------------------

    /** Python {@code item in container}. */
    static boolean contains(Object container, Object item) {
        if (isUndefined(container)) {
            return false;
        }
        if (container instanceof String s) {
            if (!(item instanceof String sub)) {
                if (isUndefined(item)) {
                    throw Undefined.errorFor(item);
                }
                throw JinjaError.type("'in <string>' requires string as left operand, not " + typeName(item));
            }
            return s.contains(sub);
        }
        if (container instanceof List<?> list) {
            for (Object o : list) {
                if (eq(element(o), item)) {
                    return true;
                }
            }
            return false;
        }
        if (container instanceof Map<?, ?> map) {
            return hasKey(map, item);
        }
        throw JinjaError.type("argument of type '" + typeName(container) + "' is not iterable");
    }

    /** The items a {@code for} loop (or {@code list()}) sees. */
    static List<Object> iterate(Object o) {
        if (isUndefined(o)) {
            return List.of();
        }
        if (o instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object v : list) {
                out.add(element(v));
            }
            return out;
        }
        if (o instanceof Map<?, ?> map) {
            List<Object> out = new ArrayList<>(map.size());
            for (Object k : map.keySet()) {
                out.add(element(k));
            }
            return out;
        }
        if (o instanceof String s) {
            List<Object> out = new ArrayList<>(s.length());
            s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
            return out;
        }
        if (o instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            for (Iterator<?> i = it.iterator(); i.hasNext(); ) {
                out.add(element(i.next()));
            }
            return out;
        }
        throw JinjaError.type("'" + typeName(o) + "' object is not iterable");
    }

    static boolean isIterable(Object o) {
        return isUndefined(o) || o instanceof String || o instanceof Iterable<?> || o instanceof Map<?, ?>;
    }

    /** Python {@code len(o)} (strings count code points; undefined is 0). */
    static long len(Object o) {
        if (isUndefined(o)) {
            return 0;
        }
        if (o instanceof String s) {
            return s.codePointCount(0, s.length());
        }
        if (o instanceof List<?> l) {
            return l.size();
        }
        if (o instanceof Map<?, ?> m) {
            return m.size();
        }
        throw JinjaError.type("object of type '" + typeName(o) + "' has no len()");
    }

    // --- attribute and item access (Jinja2's sandboxed getattr / getitem) ------------------------

    static Object getattr(Object obj, String name) {
        if (isUndefined(obj)) {
            throw Undefined.errorFor(obj);
        }
        if (obj instanceof PyNamespace ns) {
            return ns.attributes.containsKey(name) ? ns.attributes.get(name) : Undefined.attribute(obj, name);
        }
        if (obj instanceof PyLoop loop) {
            return loop.attribute(name);
        }
        if (Methods.has(obj, name)) {
            return new BoundMethod(obj, name);
        }
        if (obj instanceof Map<?, ?> map) {
            Object v = getKey(map, name);
            return v == MISSING_VALUE ? Undefined.attribute(obj, name) : v;
        }
        return Undefined.attribute(obj, name);
    }

    static Object getitem(Object obj, Object key) {
        if (isUndefined(obj)) {
            throw Undefined.errorFor(obj);
        }
        if (key instanceof PySlice slice && (obj instanceof List<?> || obj instanceof String)) {
            return Slicing.slice(obj, slice);
        }
        if (obj instanceof Map<?, ?> map) {
            Object v = getKey(map, key);
            if (v != MISSING_VALUE) {
                return v;
            }
        } else if (obj instanceof List<?> list && isInt(key)) {
            long i = toIndex(key, "list indices");
            if (i < 0) {
                i += list.size();
            }
            if (i >= 0 && i < list.size()) {
                return element(list.get((int) i));
            }
            return Undefined.attribute(obj, key);
        } else if (obj instanceof String s && isInt(key)) {
            long n = s.codePointCount(0, s.length());
            long i = toIndex(key, "string indices");
            if (i < 0) {
                i += n;
            }
            if (i >= 0 && i < n) {
                int start = s.offsetByCodePoints(0, (int) i);
                return new String(Character.toChars(s.codePointAt(start)));
            }
            return Undefined.attribute(obj, key);
        }
        if (key instanceof String name) {
            return getattr(obj, name);
        }
        return Undefined.attribute(obj, key);
    }
}
