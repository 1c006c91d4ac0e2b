package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.lib.fn.MacroFunction;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for template values: what a value is, its truth, its numbers as Java numbers,
 * dict keys found by Python equality, containers and attribute/item access. Values are plain Java:
 * String, Long/BigInteger (int), Double (float), Boolean, {@link PyNone#NONE}, List (list),
 * {@link PyTuple}, Map (dict), and undefined as Java null or {@link Undefined}. Their text is
 * {@link PyText}, comparison {@link PyComparison}, operators {@link PyArithmetic}.
 */
public final class PyValues {
    public static final Object NONE = PyNone.NONE;

    private PyValues() {
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

    // --- truth -----------------------------------------------------------------------------------

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

    // --- numbers as Java numbers -----------------------------------------------------------------

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

    // --- dict keys, found by Python equality (1 == 1.0 == True) ----------------------------------

    /** What {@link #findKey} and {@link #getKey} give when the map has no such key. */
    static final Object MISSING = new Object();

    /** The key of {@code map} equal to {@code key} in Python's sense, or MISSING. */
    static Object findKey(Map<?, ?> map, Object key) {
        if (map.containsKey(key)) {
            return key;
        }
        if (isNumber(key) || key == NONE) {
            for (Object k : map.keySet()) {
                if (PyComparison.eq(element(k), key)) {
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
        return k == MISSING ? MISSING : element(map.get(k));
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
                if (PyComparison.eq(element(o), item)) {
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
            return v == MISSING ? Undefined.attribute(obj, name) : v;
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
            if (v != MISSING) {
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
