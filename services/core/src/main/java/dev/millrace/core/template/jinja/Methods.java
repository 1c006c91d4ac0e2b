package dev.millrace.core.template.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Python methods templates call on values: {@code str} methods (strip family with chars,
 * startswith/endswith with tuples, split/rsplit with Python semantics, ...), {@code dict.get/items/
 * keys/values} and the read-only list methods. Methods that change a list or dict are refused, as
 * Jinja2's ImmutableSandboxedEnvironment refuses them.
 */
final class Methods {
    private Methods() {
    }

    private static final Set<String> STR = Set.of("capitalize", "casefold", "center", "count", "endswith", "expandtabs",
            "find", "format", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower",
            "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower", "lstrip", "partition",
            "removeprefix", "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split",
            "splitlines", "startswith", "strip", "swapcase", "title", "upper", "zfill", "encode", "format_map", "translate",
            "maketrans");
    private static final Set<String> DICT = Set.of("get", "items", "keys", "values", "copy", "clear", "pop", "popitem",
            "setdefault", "update", "fromkeys");
    private static final Set<String> DICT_MUTATING = Set.of("clear", "pop", "popitem", "setdefault", "update");
    private static final Set<String> LIST = Set.of("index", "count", "copy", "append", "extend", "insert", "pop", "remove",
            "reverse", "sort", "clear");
    private static final Set<String> LIST_MUTATING = Set.of("append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear");

    static boolean has(Object obj, String name) {
        if (obj instanceof String) {
            return STR.contains(name);
        }
        if (obj instanceof PyTuple) {
            return name.equals("index") || name.equals("count");
        }
        if (obj instanceof List<?>) {
            return LIST.contains(name);
        }
        if (obj instanceof Map<?, ?>) {
            return DICT.contains(name);
        }
        return false;
    }

    /** {@code obj.name(args)}. */
    static Object call(Object obj, String name, List<Object> args, Map<String, Object> kwargs) {
        if (PyValues.isUndefined(obj)) {
            throw Undefined.errorFor(obj);
        }
        if (obj instanceof PyLoop loop) {
            return loop.call(name, args);
        }
        if (obj instanceof PyNamespace || !has(obj, name)) {
            Object attr = PyValues.getattr(obj, name);
            if (attr instanceof PyCallable callable && !(attr instanceof BoundMethod)) {
                return callable.call(args, kwargs);
            }
            if (attr instanceof com.hubspot.jinjava.lib.fn.MacroFunction macro) {
                return Calls.callMacro(macro, args, kwargs);
            }
            if (PyValues.isUndefined(attr)) {
                throw Undefined.errorFor(attr);
            }
            throw JinjaError.type("'" + PyValues.typeName(attr) + "' object is not callable");
        }
        if (obj instanceof Map<?, ?> && DICT_MUTATING.contains(name) || obj instanceof List<?> && LIST_MUTATING.contains(name)) {
            throw JinjaError.security("access to attribute '" + name + "' of '" + PyValues.typeName(obj) + "' object is unsafe.");
        }
        Args a = new Args(name, args, kwargs);
        if (obj instanceof String s) {
            return Strings.call(s, name, a);
        }
        if (obj instanceof Map<?, ?> map) {
            return dict(map, name, a);
        }
        return list((List<?>) obj, name, a);
    }

    private static Object dict(Map<?, ?> map, String name, Args a) {
        switch (name) {
            case "get" -> {
                a.max(2);
                Object v = PyValues.getKey(map, a.required(0, "key"));
                return v == PyValues.MISSING ? a.opt(1, "default", PyValues.NONE) : v;
            }
            case "items" -> {
                a.max(0);
                List<Object> out = new ArrayList<>();
                map.forEach((k, v) -> out.add(PyTuple.of(PyValues.element(k), PyValues.element(v))));
                return out;
            }
            case "keys" -> {
                a.max(0);
                return PyValues.iterate(map);
            }
            case "values" -> {
                a.max(0);
                List<Object> out = new ArrayList<>();
                map.values().forEach(v -> out.add(PyValues.element(v)));
                return out;
            }
            case "copy" -> {
                a.max(0);
                return new java.util.LinkedHashMap<>(map);
            }
            default -> throw JinjaError.unsupported("dict." + name + "()");
        }
    }

    private static Object list(List<?> list, String name, Args a) {
        switch (name) {
            case "index" -> {
                Object x = a.required(0, "value");
                for (int i = 0; i < list.size(); i++) {
                    if (PyComparison.eq(PyValues.element(list.get(i)), x)) {
                        return (long) i;
                    }
                }
                throw JinjaError.value(PyText.repr(x) + " is not in list");
            }
            case "count" -> {
                Object x = a.required(0, "value");
                long n = 0;
                for (Object o : list) {
                    if (PyComparison.eq(PyValues.element(o), x)) {
                        n++;
                    }
                }
                return n;
            }
            case "copy" -> {
                return new ArrayList<>(list);
            }
            default -> throw JinjaError.unsupported("list." + name + "()");
        }
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    static String upper(String s) {
        return s.toUpperCase(Locale.ROOT);
    }
}
