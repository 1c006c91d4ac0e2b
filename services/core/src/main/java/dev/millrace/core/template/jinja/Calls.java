package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.el.ext.NamedParameter;
import com.hubspot.jinjava.lib.fn.MacroFunction;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Calling a value: globals, bound methods and {% macro %}s. */
final class Calls {
    private Calls() {
    }

    static Object call(Object fn, List<Object> args, Map<String, Object> kwargs) {
        if (fn instanceof PyCallable callable) {
            return callable.call(args, kwargs);
        }
        if (fn instanceof MacroFunction macro) {
            return callMacro(macro, args, kwargs);
        }
        if (PyValues.isUndefined(fn)) {
            throw Undefined.errorFor(fn);
        }
        throw JinjaError.type("'" + PyValues.typeName(fn) + "' object is not callable");
    }

    static Object callMacro(MacroFunction macro, List<Object> args, Map<String, Object> kwargs) {
        List<String> names = macro.getArguments();
        if (args.size() > names.size()) {
            throw JinjaError.type("macro '" + macro.getName() + "' takes not more than " + names.size() + " argument(s)");
        }
        List<Object> all = new ArrayList<>(args);
        kwargs.forEach((k, v) -> {
            if (!names.contains(k)) {
                throw JinjaError.type("macro '" + macro.getName() + "' takes no keyword argument '" + k + "'");
            }
            all.add(new NamedParameter(k, v));
        });
        if (macro instanceof Tags.PyMacro py) {
            // defaults are evaluated now, in the calling context, as Jinja2 does
            for (int i = args.size(); i < names.size(); i++) {
                String name = names.get(i);
                Expr fallback = py.defaults.get(name);
                if (!kwargs.containsKey(name) && fallback != null) {
                    all.add(new NamedParameter(name, fallback.eval(HfInterpreter.of(com.hubspot.jinjava.interpret.JinjavaInterpreter.getCurrent()))));
                }
            }
        }
        try {
            return macro.evaluate(all.toArray());
        } catch (StackOverflowError e) {
            throw new JinjaError("RecursionError", "maximum recursion depth exceeded");
        }
    }
}
