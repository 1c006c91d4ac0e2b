package dev.millrace.core.template.jinja;

import java.util.List;
import java.util.Map;

/** {@code obj.method} looked up without calling it; calling it runs the Python method. */
record BoundMethod(Object self, String name) implements PyCallable {
    @Override
    public Object call(List<Object> args, Map<String, Object> kwargs) {
        return Methods.call(self, name, args, kwargs);
    }

    @Override
    public String toString() {
        return "<built-in method " + name + " of " + PyValues.typeName(self) + " object>";
    }
}
