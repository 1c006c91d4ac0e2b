package dev.millrace.core.template;

import java.time.ZonedDateTime;

/** Globals HF registers for chat templates: {@code raise_exception} and {@code strftime_now}. */
public final class TemplateFunctions {
    private TemplateFunctions() {
    }

    /** Thrown by {@code raise_exception(msg)}; its message is the template's own text. */
    public static final class TemplateRaised extends RuntimeException {
        TemplateRaised(String message) {
            super(message, null, false, false);
        }
    }

    public static String raiseException(String message) {
        throw new TemplateRaised(message);
    }

    /** Python {@code datetime.now().strftime(fmt)} for the directives chat templates use. */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        return dev.millrace.core.template.jinja.Strftime.format(t, format);
    }
}
