package dev.millrace.core.template.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A parsed Jinja2 expression; {@link #eval} gives the Python-semantics value. */
interface Expr {
    Object eval(Env env);

    default List<Expr> children() {
        return List.of();
    }

    record Const(Object value) implements Expr {
        @Override
        public Object eval(Env env) {
            return value;
        }
    }

    record Name(String name) implements Expr {
        @Override
        public Object eval(Env env) {
            Object v = env.lookup(name);
            return v == null ? Undefined.named(name) : v;
        }
    }

    record GetAttr(Expr object, String name) implements Expr {
        @Override
        public Object eval(Env env) {
            return PyValues.getattr(object.eval(env), name);
        }

        @Override
        public List<Expr> children() {
            return List.of(object);
        }
    }

    record GetItem(Expr object, Expr key) implements Expr {
        @Override
        public Object eval(Env env) {
            Object obj = object.eval(env);
            return PyValues.getitem(obj, key.eval(env));
        }

        @Override
        public List<Expr> children() {
            return List.of(object, key);
        }
    }

    record Slice(Expr start, Expr stop, Expr step) implements Expr {
        @Override
        public Object eval(Env env) {
            return new PySlice(start == null ? null : start.eval(env), stop == null ? null : stop.eval(env),
                    step == null ? null : step.eval(env));
        }

        @Override
        public List<Expr> children() {
            List<Expr> out = new ArrayList<>();
            for (Expr e : new Expr[] {start, stop, step}) {
                if (e != null) {
                    out.add(e);
                }
            }
            return out;
        }
    }

    record Call(Expr callee, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
        @Override
        public Object eval(Env env) {
            if (callee instanceof GetAttr attr) {
                Object obj = attr.object().eval(env);
                return Methods.call(obj, attr.name(), evalAll(args, env), evalAll(kwargs, env));
            }
            Object fn = callee.eval(env);
            return Calls.call(fn, evalAll(args, env), evalAll(kwargs, env));
        }

        @Override
        public List<Expr> children() {
            List<Expr> out = new ArrayList<>();
            out.add(callee);
            out.addAll(args);
            out.addAll(kwargs.values());
            return out;
        }
    }

    /** {@code value|name(args)}; value is null inside {@code {% filter %}} blocks. */
    record Filter(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs) implements Expr {
        @Override
        public Object eval(Env env) {
            return apply(value.eval(env), env);
        }

        /** Applies this chain to {@code input} standing in for the innermost (absent) value. */
        Object applyChain(Object input, Env env) {
            Object v = value instanceof Filter inner ? inner.applyChain(input, env) : value == null ? input : value.eval(env);
            return apply(v, env);
        }

        Object apply(Object input, Env env) {
            Filters.Fn fn = Filters.get(name);
            if (fn == null) {
                throw JinjaError.runtime("No filter named '" + name + "' found.");
            }
            return fn.apply(input, new Args(name, evalAll(args, env), evalAll(kwargs, env)), env);
        }

        @Override
        public List<Expr> children() {
            List<Expr> out = new ArrayList<>();
            if (value != null) {
                out.add(value);
            }
            out.addAll(args);
            out.addAll(kwargs.values());
            return out;
        }
    }

    record Test(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs, boolean negated) implements Expr {
        @Override
        public Object eval(Env env) {
            Tests.Fn fn = Tests.get(name);
            if (fn == null) {
                throw JinjaError.runtime("No test named '" + name + "' found.");
            }
            boolean result = fn.test(value.eval(env), new Args(name, evalAll(args, env), evalAll(kwargs, env)));
            return result != negated;
        }

        @Override
        public List<Expr> children() {
            List<Expr> out = new ArrayList<>();
            out.add(value);
            out.addAll(args);
            out.addAll(kwargs.values());
            return out;
        }
    }

    enum UnaryOp { NEG, POS, NOT }

    record Unary(UnaryOp op, Expr operand) implements Expr {
        @Override
        public Object eval(Env env) {
            Object v = operand.eval(env);
            return switch (op) {
                case NEG -> PyArithmetic.neg(v);
                case POS -> PyArithmetic.pos(v);
                case NOT -> !PyValues.truth(v);
            };
        }

        @Override
        public List<Expr> children() {
            return List.of(operand);
        }
    }

    enum BinaryOp { ADD, SUB, MUL, DIV, FLOORDIV, MOD, POW, CONCAT }

    record Binary(BinaryOp op, Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Env env) {
            Object a = left.eval(env);
            Object b = right.eval(env);
            return switch (op) {
                case ADD -> PyArithmetic.add(a, b);
                case SUB -> PyArithmetic.sub(a, b);
                case MUL -> PyArithmetic.mul(a, b);
                case DIV -> PyArithmetic.truediv(a, b);
                case FLOORDIV -> PyArithmetic.floordiv(a, b);
                case MOD -> PyArithmetic.mod(a, b);
                case POW -> PyArithmetic.pow(a, b);
                case CONCAT -> PyText.str(a) + PyText.str(b);
            };
        }

        @Override
        public List<Expr> children() {
            return List.of(left, right);
        }
    }

    record And(Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Env env) {
            Object a = left.eval(env);
            return PyValues.truth(a) ? right.eval(env) : a;
        }

        @Override
        public List<Expr> children() {
            return List.of(left, right);
        }
    }

    record Or(Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Env env) {
            Object a = left.eval(env);
            return PyValues.truth(a) ? a : right.eval(env);
        }

        @Override
        public List<Expr> children() {
            return List.of(left, right);
        }
    }

    /** {@code a < b == c ...}: Python's chained comparison. */
    record Compare(Expr first, List<String> ops, List<Expr> operands) implements Expr {
        @Override
        public Object eval(Env env) {
            Object left = first.eval(env);
            for (int i = 0; i < ops.size(); i++) {
                Object right = operands.get(i).eval(env);
                if (!compare(ops.get(i), left, right)) {
                    return false;
                }
                left = right;
            }
            return true;
        }

        static boolean compare(String op, Object a, Object b) {
            return switch (op) {
                case "==" -> PyComparison.eq(a, b);
                case "!=" -> !PyComparison.eq(a, b);
                case "<" -> PyComparison.compare(a, b, op) < 0;
                case "<=" -> PyComparison.compare(a, b, op) <= 0;
                case ">" -> PyComparison.compare(a, b, op) > 0;
                case ">=" -> PyComparison.compare(a, b, op) >= 0;
                case "in" -> PyValues.contains(b, a);
                case "notin" -> !PyValues.contains(b, a);
                default -> throw new IllegalStateException(op);
            };
        }

        @Override
        public List<Expr> children() {
            List<Expr> out = new ArrayList<>();
            out.add(first);
            out.addAll(operands);
            return out;
        }
    }

    /** {@code a if test else b}; without else, undefined. */
    record CondExpr(Expr test, Expr then, Expr otherwise) implements Expr {
        @Override
        public Object eval(Env env) {
            if (PyValues.truth(test.eval(env))) {
                return then.eval(env);
            }
            return otherwise == null ? Undefined.because("the inline if-expression on evaluated to false and no else section was defined.") : otherwise.eval(env);
        }

        @Override
        public List<Expr> children() {
            return otherwise == null ? List.of(test, then) : List.of(test, then, otherwise);
        }
    }

    record ListLit(List<Expr> items) implements Expr {
        @Override
        public Object eval(Env env) {
            return evalAll(items, env);
        }

        @Override
        public List<Expr> children() {
            return items;
        }
    }

    record TupleLit(List<Expr> items) implements Expr {
        @Override
        public Object eval(Env env) {
            return new PyTuple(evalAll(items, env));
        }

        @Override
        public List<Expr> children() {
            return items;
        }
    }

    record DictLit(List<Expr> keys, List<Expr> values) implements Expr {
        @Override
        public Object eval(Env env) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                Object k = keys.get(i).eval(env);
                if (k instanceof List<?> && !(k instanceof PyTuple) || k instanceof Map<?, ?>) {
                    throw JinjaError.type("unhashable type: '" + PyValues.typeName(k) + "'");
                }
                Object existing = PyValues.findKeyOrSelf(out, k);
                out.put(existing, values.get(i).eval(env));
            }
            return out;
        }

        @Override
        public List<Expr> children() {
            List<Expr> out = new ArrayList<>(keys);
            out.addAll(values);
            return out;
        }
    }

    static List<Object> evalAll(List<Expr> exprs, Env env) {
        List<Object> out = new ArrayList<>(exprs.size());
        for (Expr e : exprs) {
            out.add(e.eval(env));
        }
        return out;
    }

    static Map<String, Object> evalAll(Map<String, Expr> exprs, Env env) {
        if (exprs.isEmpty()) {
            return Map.of();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        exprs.forEach((k, v) -> out.put(k, v.eval(env)));
        return out;
    }
}
