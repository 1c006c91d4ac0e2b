package dev.millrace.core.template.jinja;

import java.time.ZonedDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The global functions a chat template sees: Jinja2's {@code range}, {@code dict},
 * {@code namespace}, and HF's {@code raise_exception} and {@code strftime_now}.
 */
final class Globals {
    private Globals() {
    }

    static Map<String, Object> create(Supplier<ZonedDateTime> clock) {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("range", (PyCallable) (args, kwargs) -> {
            if (!kwargs.isEmpty()) {
                throw JinjaError.type("range() takes no keyword arguments");
            }
            if (args.isEmpty() || args.size() > 3) {
                throw JinjaError.type("range expected at most 3 arguments, got " + args.size());
            }
            long[] v = new long[args.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = Args.integer(args.get(i), "range() argument");
            }
            return switch (v.length) {
                case 1 -> new PyRange(0, v[0], 1);
                case 2 -> new PyRange(v[0], v[1], 1);
                default -> new PyRange(v[0], v[1], v[2]);
            };
        });
        g.put("dict", (PyCallable) (args, kwargs) -> {
            Map<Object, Object> out = new LinkedHashMap<>();
            if (args.size() > 1) {
                throw JinjaError.type("dict expected at most 1 argument, got " + args.size());
            }
            if (args.size() == 1) {
                if (args.get(0) instanceof Map<?, ?> m) {
                    out.putAll(m);
                } else {
                    for (Object pair : PyValues.iterate(args.get(0))) {
                        List<Object> kv = PyValues.iterate(pair);
                        out.put(kv.get(0), kv.get(1));
                    }
                }
            }
            out.putAll(kwargs);
            return out;
        });
        g.put("namespace", (PyCallable) (args, kwargs) -> {
            PyNamespace ns = new PyNamespace();
            if (args.size() > 1) {
                throw JinjaError.type("namespace expected at most 1 argument, got " + args.size());
            }
            if (args.size() == 1) {
                if (!(args.get(0) instanceof Map<?, ?> m)) {
                    throw JinjaError.type("'" + PyValues.typeName(args.get(0)) + "' object is not iterable");
                }
                m.forEach((k, v) -> ns.attributes.put(PyText.str(k), PyValues.element(v)));
            }
            ns.attributes.putAll(kwargs);
            return ns;
        });
        g.put("joiner", (PyCallable) (args, kwargs) -> {
            String sep = PyText.str(new Args("joiner", args, kwargs).opt(0, "sep", ", "));
            boolean[] used = {false};
            return (PyCallable) (a, k) -> {
                if (!used[0]) {
                    used[0] = true;
                    return "";
                }
                return sep;
            };
        });
        g.put("raise_exception", (PyCallable) (args, kwargs) -> {
            throw new JinjaError("TemplateError", args.isEmpty() ? "" : PyText.str(args.get(0)));
        });
        g.put("strftime_now", (PyCallable) (args, kwargs) -> {
            if (args.size() != 1) {
                throw JinjaError.type("strftime_now() takes exactly one argument (" + args.size() + " given)");
            }
            return Strftime.format(clock.get(), Args.string(args.get(0), "strftime() argument 1"));
        });
        return g;
    }
}
