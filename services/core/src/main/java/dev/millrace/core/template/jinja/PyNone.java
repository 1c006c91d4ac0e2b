package dev.millrace.core.template.jinja;

/** Python's {@code None} (distinct from undefined, which is Java null or {@link Undefined}). */
public final class PyNone {
    public static final PyNone NONE = new PyNone();

    private PyNone() {
    }

    @Override
    public String toString() {
        return "None";
    }
}
