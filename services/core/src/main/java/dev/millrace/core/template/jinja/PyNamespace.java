package dev.millrace.core.template.jinja;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code namespace(...)}: the only object a template may assign attributes on. */
final class PyNamespace {
    final Map<String, Object> attributes = new LinkedHashMap<>();
}
