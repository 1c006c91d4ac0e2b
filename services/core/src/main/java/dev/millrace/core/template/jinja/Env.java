package dev.millrace.core.template.jinja;

/** Where an expression finds its names. */
interface Env {
    /** The value bound to {@code name} (template variable, macro or global), or null when none is. */
    Object lookup(String name);
}
