package dev.millrace.core.template.jinja;

/** A Python slice {@code [start:stop:step]}; null bounds mean "not given". */
record PySlice(Object start, Object stop, Object step) {
}
