package dev.millrace.core.template.jinja;

import java.util.List;

/**
 * A rendered template's text and the [start, end) code-point spans its {@code {% generation %}}
 * blocks produced (empty unless generation tracking was asked for).
 */
public record RenderedTemplate(String text, List<int[]> generationSpans) {
}
