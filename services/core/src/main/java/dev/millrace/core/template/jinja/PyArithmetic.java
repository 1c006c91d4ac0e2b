package dev.millrace.core.template.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.List;

/** Python's arithmetic operators over template values (see {@link PyValues}); {@code %} on a string formats. */
public final class PyArithmetic {
    private PyArithmetic() {
    }

    private static void requireDefined(Object a, Object b) {
        if (PyValues.isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (PyValues.isUndefined(b)) {
            throw Undefined.errorFor(b);
        }
    }

    private static JinjaError unsupported(String op, Object a, Object b) {
        return JinjaError.type("unsupported operand type(s) for " + op + ": '" + PyValues.typeName(a) + "' and '" + PyValues.typeName(b) + "'");
    }

    static Object add(Object a, Object b) {
        requireDefined(a, b);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return PyValues.toDouble(a) + PyValues.toDouble(b);
            }
            return PyValues.normInt(PyValues.toBig(a).add(PyValues.toBig(b)));
        }
        if (a instanceof String sa) {
            if (b instanceof String sb) {
                return sa + sb;
            }
            throw JinjaError.type("can only concatenate str (not \"" + PyValues.typeName(b) + "\") to str");
        }
        if (a instanceof List<?> la && b instanceof List<?> lb && (a instanceof PyTuple) == (b instanceof PyTuple)) {
            List<Object> out = new ArrayList<>(la);
            out.addAll(lb);
            return a instanceof PyTuple ? new PyTuple(out) : out;
        }
        if (PyValues.isList(a)) {
            throw JinjaError.type("can only concatenate list (not \"" + PyValues.typeName(b) + "\") to list");
        }
        throw unsupported("+", a, b);
    }

    static Object sub(Object a, Object b) {
        requireDefined(a, b);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return PyValues.toDouble(a) - PyValues.toDouble(b);
            }
            return PyValues.normInt(PyValues.toBig(a).subtract(PyValues.toBig(b)));
        }
        throw unsupported("-", a, b);
    }

    static Object mul(Object a, Object b) {
        requireDefined(a, b);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return PyValues.toDouble(a) * PyValues.toDouble(b);
            }
            return PyValues.normInt(PyValues.toBig(a).multiply(PyValues.toBig(b)));
        }
        if (PyValues.isInt(b) && (a instanceof String || a instanceof List<?>)) {
            return repeat(a, PyValues.toIndex(b, "count"));
        }
        if (PyValues.isInt(a) && (b instanceof String || b instanceof List<?>)) {
            return repeat(b, PyValues.toIndex(a, "count"));
        }
        throw JinjaError.type("can't multiply sequence by non-int of type '" + PyValues.typeName(b) + "'");
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
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            double y = PyValues.toDouble(b);
            if (y == 0.0) {
                throw new JinjaError("ZeroDivisionError", PyValues.isInt(a) && PyValues.isInt(b) ? "division by zero" : "float division by zero");
            }
            if (PyValues.isInt(a) && PyValues.isInt(b)) {
                return new BigDecimal(PyValues.toBig(a)).divide(new BigDecimal(PyValues.toBig(b)), MathContext.DECIMAL128).doubleValue();
            }
            return PyValues.toDouble(a) / y;
        }
        throw unsupported("/", a, b);
    }

    static Object floordiv(Object a, Object b) {
        requireDefined(a, b);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                double y = PyValues.toDouble(b);
                if (y == 0.0) {
                    throw new JinjaError("ZeroDivisionError", "float floor division by zero");
                }
                return Math.floor(PyValues.toDouble(a) / y);
            }
            BigInteger y = PyValues.toBig(b);
            if (y.signum() == 0) {
                throw new JinjaError("ZeroDivisionError", "integer division or modulo by zero");
            }
            BigInteger[] qr = PyValues.toBig(a).divideAndRemainder(y);
            BigInteger q = qr[0];
            if (qr[1].signum() != 0 && qr[1].signum() != y.signum()) {
                q = q.subtract(BigInteger.ONE);
            }
            return PyValues.normInt(q);
        }
        throw unsupported("//", a, b);
    }

    static Object mod(Object a, Object b) {
        requireDefined(a, b);
        if (a instanceof String s) {
            return Format.percent(s, b);
        }
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                double x = PyValues.toDouble(a);
                double y = PyValues.toDouble(b);
                if (y == 0.0) {
                    throw new JinjaError("ZeroDivisionError", "float modulo");
                }
                double r = x % y;
                if (r != 0 && (r < 0) != (y < 0)) {
                    r += y;
                }
                return r;
            }
            BigInteger y = PyValues.toBig(b);
            if (y.signum() == 0) {
                throw new JinjaError("ZeroDivisionError", "integer division or modulo by zero");
            }
            BigInteger r = PyValues.toBig(a).mod(y.abs());
            if (y.signum() < 0 && r.signum() != 0) {
                r = r.add(y);
            }
            return PyValues.normInt(r);
        }
        throw unsupported("%", a, b);
    }

    static Object pow(Object a, Object b) {
        requireDefined(a, b);
        if (PyValues.isNumber(a) && PyValues.isNumber(b)) {
            if (PyValues.isInt(a) && PyValues.isInt(b) && PyValues.toBig(b).signum() >= 0) {
                return PyValues.normInt(PyValues.toBig(a).pow(PyValues.toBig(b).intValueExact()));
            }
            double x = PyValues.toDouble(a);
            if (x == 0.0 && PyValues.toDouble(b) < 0) {
                throw new JinjaError("ZeroDivisionError", "0.0 cannot be raised to a negative power");
            }
            return Math.pow(x, PyValues.toDouble(b));
        }
        throw unsupported("** or pow()", a, b);
    }

    static Object neg(Object a) {
        if (PyValues.isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (a instanceof Double d) {
            return -d;
        }
        if (PyValues.isInt(a)) {
            return PyValues.normInt(PyValues.toBig(a).negate());
        }
        throw JinjaError.type("bad operand type for unary -: '" + PyValues.typeName(a) + "'");
    }

    static Object pos(Object a) {
        if (PyValues.isUndefined(a)) {
            throw Undefined.errorFor(a);
        }
        if (a instanceof Boolean b) {
            return b ? 1L : 0L;
        }
        if (PyValues.isNumber(a)) {
            return a;
        }
        throw JinjaError.type("bad operand type for unary +: '" + PyValues.typeName(a) + "'");
    }
}
