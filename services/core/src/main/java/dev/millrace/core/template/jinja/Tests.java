package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.lib.fn.MacroFunction;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Jinja2 3.1's built-in tests ({@code x is defined}, {@code is string}, {@code is mapping}, ...). */
final class Tests {
    interface Fn {
        boolean test(Object value, Args args);
    }

    private static final Map<String, Fn> TESTS = new HashMap<>();

    private Tests() {
    }

    static Fn get(String name) {
        return TESTS.get(name);
    }

    static boolean known(String name) {
        return TESTS.containsKey(name);
    }

    private static void register(Fn fn, String... names) {
        for (String n : names) {
            TESTS.put(n, fn);
        }
    }

    private static Object other(Args a) {
        return a.required(0, "other");
    }

    static {
        register((v, a) -> !PyValues.isUndefined(v), "defined");
        register((v, a) -> PyValues.isUndefined(v), "undefined");
        register((v, a) -> v == PyValues.NONE, "none");
        register((v, a) -> v instanceof Boolean, "boolean");
        register((v, a) -> Boolean.TRUE.equals(v), "true");
        register((v, a) -> Boolean.FALSE.equals(v), "false");
        register((v, a) -> v instanceof String, "string");
        register((v, a) -> v instanceof Map<?, ?>, "mapping");
        register((v, a) -> PyValues.isNumber(v), "number");
        register((v, a) -> PyValues.isInt(v) && !(v instanceof Boolean), "integer");
        register((v, a) -> v instanceof Double, "float");
        register((v, a) -> PyValues.isUndefined(v) || v instanceof String || v instanceof List<?> || v instanceof Map<?, ?>, "sequence");
        register((v, a) -> PyValues.isIterable(v), "iterable");
        register((v, a) -> v instanceof PyCallable || v instanceof MacroFunction, "callable");
        register((v, a) -> false, "escaped");
        register((v, a) -> PyValues.truth(PyComparison.eq(PyArithmetic.mod(v, 2L), 0L)), "even");
        register((v, a) -> PyValues.truth(PyComparison.eq(PyArithmetic.mod(v, 2L), 1L)), "odd");
        register((v, a) -> PyComparison.eq(PyArithmetic.mod(v, a.required(0, "num")), 0L), "divisibleby");
        register((v, a) -> PyComparison.eq(v, other(a)), "eq", "equalto", "==");
        register((v, a) -> !PyComparison.eq(v, other(a)), "ne", "!=");
        register((v, a) -> PyComparison.compare(v, other(a), "<") < 0, "lt", "lessthan", "<");
        register((v, a) -> PyComparison.compare(v, other(a), "<=") <= 0, "le", "<=");
        register((v, a) -> PyComparison.compare(v, other(a), ">") > 0, "gt", "greaterthan", ">");
        register((v, a) -> PyComparison.compare(v, other(a), ">=") >= 0, "ge", ">=");
        register((v, a) -> PyValues.contains(a.required(0, "seq"), v), "in");
        register((v, a) -> {
            Object o = other(a);
            return v == o || (v instanceof Boolean && v.equals(o)) || (v instanceof Long && v.equals(o) && (Long) v >= -5 && (Long) v <= 256);
        }, "sameas");
        register((v, a) -> Strings.call(PyText.str(v), "islower", new Args("islower", List.of(), Map.of())).equals(true), "lower");
        register((v, a) -> Strings.call(PyText.str(v), "isupper", new Args("isupper", List.of(), Map.of())).equals(true), "upper");
        register((v, a) -> v instanceof String s && Filters.known(s), "filter");
        register((v, a) -> v instanceof String s && known(s), "test");
    }
}
