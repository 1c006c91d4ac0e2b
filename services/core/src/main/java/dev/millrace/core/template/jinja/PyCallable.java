package dev.millrace.core.template.jinja;

import java.util.List;
import java.util.Map;

/** Something a template can call: a global function or a bound method. */
interface PyCallable {
    Object call(List<Object> args, Map<String, Object> kwargs);
}
