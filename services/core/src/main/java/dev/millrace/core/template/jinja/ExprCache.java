package dev.millrace.core.template.jinja;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** Parsed expressions and tag headers, keyed by their source text (parsed once, shared by renders). */
final class ExprCache {
    private final Map<String, Expr> expressions = new ConcurrentHashMap<>();
    private final Map<String, Parser.ForHeader> forHeaders = new ConcurrentHashMap<>();
    private final Map<String, Parser.SetHeader> setHeaders = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Expr>> withHeaders = new ConcurrentHashMap<>();
    private final Map<String, Expr.Filter> filterHeaders = new ConcurrentHashMap<>();
    private final Map<String, Parser.MacroHeader> macroHeaders = new ConcurrentHashMap<>();

    private static <T> T get(Map<String, T> map, String key, Function<String, T> parse) {
        T v = map.get(key);
        if (v == null) {
            v = parse.apply(key);
            map.put(key, v);
        }
        return v;
    }

    Expr expression(String source) {
        return get(expressions, source, Parser::expression);
    }

    Parser.ForHeader forHeader(String source) {
        return get(forHeaders, source, Parser::forHeader);
    }

    Parser.SetHeader setHeader(String source) {
        return get(setHeaders, source, Parser::setHeader);
    }

    Map<String, Expr> withHeader(String source) {
        return get(withHeaders, source, Parser::withHeader);
    }

    Parser.MacroHeader macroHeader(String source) {
        return get(macroHeaders, source, Parser::macroHeader);
    }

    Expr.Filter filterHeader(String source) {
        return get(filterHeaders, source, Parser::filterBlockHeader);
    }
}
