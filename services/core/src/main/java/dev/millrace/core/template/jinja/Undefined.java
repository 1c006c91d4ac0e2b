package dev.millrace.core.template.jinja;

/**
 * Jinja2's plain {@code Undefined}: prints as nothing, is false, iterates as empty, and raises
 * {@code UndefinedError} on attribute access, calls and arithmetic. Java {@code null} coming from
 * Jinjava (an unknown name, a macro argument not passed) means the same.
 */
public final class Undefined {
    static final Undefined ANONYMOUS = new Undefined("value is undefined");

    private final String hint;

    Undefined(String hint) {
        this.hint = hint;
    }

    static Undefined named(String name) {
        return new Undefined("'" + name + "' is undefined");
    }

    static Undefined attribute(Object owner, Object name) {
        String ownerType = PyValues.objectTypeRepr(owner);
        return new Undefined(name instanceof String
                ? ownerType + " has no attribute " + PyText.repr(name)
                : ownerType + " has no element " + PyText.repr(name));
    }

    static Undefined because(String hint) {
        return new Undefined(hint);
    }

    String hint() {
        return hint;
    }

    JinjaError error() {
        return JinjaError.undefined(hint);
    }

    static JinjaError errorFor(Object undefined) {
        return undefined instanceof Undefined u ? u.error() : ANONYMOUS.error();
    }

    @Override
    public String toString() {
        return "";
    }
}
