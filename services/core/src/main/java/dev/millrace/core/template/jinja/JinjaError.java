package dev.millrace.core.template.jinja;

/**
 * An error raised while compiling or rendering a template, named like the Python exception Jinja2
 * would raise ({@code TypeError}, {@code UndefinedError}, {@code TemplateSyntaxError}, ...).
 * {@link #getMessage()} is {@code "Kind: message"}, except for {@code raise_exception}, whose
 * message is the template's own text.
 */
public final class JinjaError extends RuntimeException {
    private final String kind;
    private final String detail;

    public JinjaError(String kind, String detail) {
        super(kind + ": " + detail, null, false, false);
        this.kind = kind;
        this.detail = detail;
    }

    /** The Python exception class name, e.g. {@code TypeError}. */
    public String kind() {
        return kind;
    }

    /** The message without the kind prefix. */
    public String detail() {
        return detail;
    }

    /** True for {@code raise_exception(...)} called by the template itself. */
    public boolean raisedByTemplate() {
        return "TemplateError".equals(kind);
    }

    static JinjaError type(String message) {
        return new JinjaError("TypeError", message);
    }

    static JinjaError value(String message) {
        return new JinjaError("ValueError", message);
    }

    static JinjaError syntax(String message) {
        return new JinjaError("TemplateSyntaxError", message);
    }

    static JinjaError runtime(String message) {
        return new JinjaError("TemplateRuntimeError", message);
    }

    static JinjaError undefined(String message) {
        return new JinjaError("UndefinedError", message);
    }

    static JinjaError security(String message) {
        return new JinjaError("SecurityError", message);
    }

    static JinjaError unsupported(String what) {
        return new JinjaError("NotSupportedError", what + " is not supported by Millrace's template renderer");
    }
}
