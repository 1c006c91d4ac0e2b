package dev.millrace.core.template.jinja;

import dev.millrace.core.template.jinja.Lexer.Kind;
import dev.millrace.core.template.jinja.Lexer.Token;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Jinja2's expression grammar (jinja2/parser.py), including its operator precedence: {@code not}
 * below comparisons, {@code ~} between {@code +} and {@code *}, filters and tests after unary minus,
 * slices with steps, keyword arguments with any expression as value, and the statement headers of
 * {@code for}, {@code set} and {@code with}.
 */
final class Parser {
    private final String source;
    private final List<Token> tokens;
    private int pos;

    Parser(String source) {
        this.source = source;
        this.tokens = Lexer.tokenize(source);
    }

    // --- entry points ----------------------------------------------------------------------------

    /** A whole {{ ... }} / {% if ... %} expression (a bare tuple allowed). */
    static Expr expression(String source) {
        Parser p = new Parser(source);
        Expr e = p.parseTuple(true, Set.of(), false);
        p.expectEnd();
        return e;
    }

    /** {@code target in iterable [if test] [recursive]}. */
    record ForHeader(List<String> targets, boolean unpack, Expr iterable, Expr filter, boolean recursive) {
    }

    static ForHeader forHeader(String source) {
        Parser p = new Parser(source);
        List<String> targets = new ArrayList<>();
        boolean unpack = p.parseAssignTarget(targets, Set.of("in"));
        p.expectName("in");
        Expr iterable = p.parseTuple(false, Set.of("recursive"), false);
        Expr filter = null;
        if (p.skipName("if")) {
            filter = p.parseExpression(true);
        }
        boolean recursive = p.skipName("recursive");
        p.expectEnd();
        return new ForHeader(targets, unpack, iterable, filter, recursive);
    }

    /** {@code target = value}, {@code ns.attr = value}, or a block set {@code target [| filters]}. */
    record SetHeader(List<String> targets, boolean unpack, String namespaceAttr, Expr value, Expr.Filter blockFilter) {
    }

    static SetHeader setHeader(String source) {
        Parser p = new Parser(source);
        List<String> targets = new ArrayList<>();
        String attr = null;
        boolean unpack;
        if (p.peek().kind() == Kind.NAME && p.peek(1).is(".") && p.peek(2).kind() == Kind.NAME) {
            targets.add(p.next().text());
            p.next();
            attr = p.next().text();
            unpack = false;
        } else {
            unpack = p.parseAssignTarget(targets, Set.of());
        }
        if (p.peek().is("=")) {
            p.next();
            Expr value = p.parseTuple(true, Set.of(), false);
            p.expectEnd();
            return new SetHeader(targets, unpack, attr, value, null);
        }
        Expr.Filter filter = p.peek().is("|") ? (Expr.Filter) p.parseFilter(null, false) : null;
        p.expectEnd();
        return new SetHeader(targets, unpack, attr, null, filter);
    }

    /** {@code {% macro name(a, b=default) %}}: parameter names and default expressions. */
    record MacroHeader(String name, List<String> params, Map<String, Expr> defaults) {
    }

    static MacroHeader macroHeader(String source) {
        Parser p = new Parser(source);
        String name = p.expectNameToken();
        List<String> params = new ArrayList<>();
        Map<String, Expr> defaults = new LinkedHashMap<>();
        p.expectOp("(");
        while (!p.peek().is(")")) {
            if (!params.isEmpty()) {
                p.expectOp(",");
                if (p.peek().is(")")) {
                    break;
                }
            }
            String param = p.expectNameToken();
            params.add(param);
            if (p.skipOp("=")) {
                defaults.put(param, p.parseExpression(true));
            } else if (!defaults.isEmpty()) {
                throw p.fail("non-default argument follows default argument");
            }
        }
        p.expectOp(")");
        p.expectEnd();
        return new MacroHeader(name, params, defaults);
    }

    /** {@code {% with a = 1, b = x %}}. */
    static Map<String, Expr> withHeader(String source) {
        Parser p = new Parser(source);
        Map<String, Expr> out = new LinkedHashMap<>();
        while (p.peek().kind() != Kind.EOF) {
            if (!out.isEmpty()) {
                p.expectOp(",");
            }
            String name = p.expectNameToken();
            p.expectOp("=");
            out.put(name, p.parseExpression(true));
        }
        return out;
    }

    /** {@code {% filter name(args)|other %}}: the chain applied to the block's output. */
    static Expr.Filter filterBlockHeader(String source) {
        Parser p = new Parser(source);
        Expr.Filter chain = (Expr.Filter) p.parseFilter(null, true);
        p.expectEnd();
        return chain;
    }

    // --- tokens ----------------------------------------------------------------------------------

    private Token peek() {
        return tokens.get(pos);
    }

    private Token peek(int ahead) {
        return tokens.get(Math.min(pos + ahead, tokens.size() - 1));
    }

    private Token next() {
        Token t = tokens.get(pos);
        if (t.kind() != Kind.EOF) {
            pos++;
        }
        return t;
    }

    private JinjaError fail(String message) {
        return JinjaError.syntax(message + " (in expression " + PyText.repr(source.strip()) + ")");
    }

    private void expectOp(String op) {
        Token t = next();
        if (!t.is(op)) {
            throw fail("expected token '" + op + "', got " + t);
        }
    }

    private void expectName(String name) {
        Token t = next();
        if (!t.isName(name)) {
            throw fail("expected token '" + name + "', got " + t);
        }
    }

    private String expectNameToken() {
        Token t = next();
        if (t.kind() != Kind.NAME) {
            throw fail("expected name, got " + t);
        }
        return t.text();
    }

    private boolean skipName(String name) {
        if (peek().isName(name)) {
            pos++;
            return true;
        }
        return false;
    }

    private boolean skipOp(String op) {
        if (peek().is(op)) {
            pos++;
            return true;
        }
        return false;
    }

    private void expectEnd() {
        if (peek().kind() != Kind.EOF) {
            throw fail("expected end of statement, got " + peek());
        }
    }

    // --- grammar ---------------------------------------------------------------------------------

    private boolean isTupleEnd(Set<String> extraEnd) {
        Token t = peek();
        if (t.kind() == Kind.EOF || t.is(")")) {
            return true;
        }
        return t.kind() == Kind.NAME && extraEnd.contains(t.text());
    }

    Expr parseTuple(boolean withCondexpr, Set<String> extraEnd, boolean explicitParens) {
        List<Expr> items = new ArrayList<>();
        boolean isTuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expectOp(",");
            }
            if (isTupleEnd(extraEnd)) {
                break;
            }
            items.add(parseExpression(withCondexpr));
            if (peek().is(",")) {
                isTuple = true;
            } else {
                break;
            }
        }
        if (!isTuple) {
            if (!items.isEmpty()) {
                return items.get(0);
            }
            if (!explicitParens) {
                throw fail("Expected an expression, got " + peek());
            }
        }
        return new Expr.TupleLit(items);
    }

    private boolean parseAssignTarget(List<String> names, Set<String> extraEnd) {
        boolean paren = skipOp("(");
        boolean tuple = paren;
        while (true) {
            names.add(expectNameToken());
            if (peek().is(",")) {
                next();
                tuple = true;
                if (isTupleEnd(extraEnd) || peek().is("=") || peek().is("|")) {
                    break;
                }
            } else {
                break;
            }
        }
        if (paren) {
            expectOp(")");
        }
        return tuple;
    }

    Expr parseExpression(boolean withCondexpr) {
        return withCondexpr ? parseCondexpr() : parseOr();
    }

    private Expr parseCondexpr() {
        Expr expr1 = parseOr();
        while (skipName("if")) {
            Expr test = parseOr();
            Expr expr3 = skipName("else") ? parseCondexpr() : null;
            expr1 = new Expr.CondExpr(test, expr1, expr3);
        }
        return expr1;
    }

    private Expr parseOr() {
        Expr left = parseAnd();
        while (skipName("or")) {
            left = new Expr.Or(left, parseAnd());
        }
        return left;
    }

    private Expr parseAnd() {
        Expr left = parseNot();
        while (skipName("and")) {
            left = new Expr.And(left, parseNot());
        }
        return left;
    }

    private Expr parseNot() {
        if (peek().isName("not")) {
            next();
            return new Expr.Unary(Expr.UnaryOp.NOT, parseNot());
        }
        return parseCompare();
    }

    private static final Set<String> COMPARE_OPS = Set.of("==", "!=", "<", "<=", ">", ">=");

    private Expr parseCompare() {
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> operands = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARE_OPS.contains(t.text())) {
                next();
                ops.add(t.text());
                operands.add(parseMath1());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
                operands.add(parseMath1());
            } else if (t.isName("not") && peek(1).isName("in")) {
                next();
                next();
                ops.add("notin");
                operands.add(parseMath1());
            } else {
                break;
            }
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, operands);
    }

    private Expr parseMath1() {
        Expr left = parseConcat();
        while (peek().is("+") || peek().is("-")) {
            Expr.BinaryOp op = next().is("+") ? Expr.BinaryOp.ADD : Expr.BinaryOp.SUB;
            left = new Expr.Binary(op, left, parseConcat());
        }
        return left;
    }

    private Expr parseConcat() {
        Expr left = parseMath2();
        while (skipOp("~")) {
            left = new Expr.Binary(Expr.BinaryOp.CONCAT, left, parseMath2());
        }
        return left;
    }

    private Expr parseMath2() {
        Expr left = parsePow();
        while (true) {
            Expr.BinaryOp op;
            if (peek().is("*")) {
                op = Expr.BinaryOp.MUL;
            } else if (peek().is("/")) {
                op = Expr.BinaryOp.DIV;
            } else if (peek().is("//")) {
                op = Expr.BinaryOp.FLOORDIV;
            } else if (peek().is("%")) {
                op = Expr.BinaryOp.MOD;
            } else {
                return left;
            }
            next();
            left = new Expr.Binary(op, left, parsePow());
        }
    }

    private Expr parsePow() {
        Expr left = parseUnary(true);
        while (skipOp("**")) {
            left = new Expr.Binary(Expr.BinaryOp.POW, left, parseUnary(true));
        }
        return left;
    }

    private Expr parseUnary(boolean withFilter) {
        Expr node;
        if (skipOp("-")) {
            node = new Expr.Unary(Expr.UnaryOp.NEG, parseUnary(false));
        } else if (skipOp("+")) {
            node = new Expr.Unary(Expr.UnaryOp.POS, parseUnary(false));
        } else {
            node = parsePrimary();
        }
        node = parsePostfix(node);
        if (withFilter) {
            node = parseFilterExpr(node);
        }
        return node;
    }

    private Expr parsePrimary() {
        Token t = next();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Expr.Const(true);
                    case "false", "False" -> new Expr.Const(false);
                    case "none", "None" -> new Expr.Const(PyValues.NONE);
                    default -> new Expr.Name(t.text());
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder((String) t.value());
                while (peek().kind() == Kind.STRING) {
                    sb.append((String) next().value());
                }
                return new Expr.Const(sb.toString());
            }
            case INTEGER, FLOAT -> {
                return new Expr.Const(t.value());
            }
            case OP -> {
                if (t.text().equals("(")) {
                    Expr e = parseTuple(true, Set.of(), true);
                    expectOp(")");
                    return e;
                }
                if (t.text().equals("[")) {
                    List<Expr> items = new ArrayList<>();
                    while (!peek().is("]")) {
                        if (!items.isEmpty()) {
                            expectOp(",");
                        }
                        if (peek().is("]")) {
                            break;
                        }
                        items.add(parseExpression(true));
                    }
                    expectOp("]");
                    return new Expr.ListLit(items);
                }
                if (t.text().equals("{")) {
                    List<Expr> keys = new ArrayList<>();
                    List<Expr> values = new ArrayList<>();
                    while (!peek().is("}")) {
                        if (!keys.isEmpty()) {
                            expectOp(",");
                        }
                        if (peek().is("}")) {
                            break;
                        }
                        keys.add(parseExpression(true));
                        expectOp(":");
                        values.add(parseExpression(true));
                    }
                    expectOp("}");
                    return new Expr.DictLit(keys, values);
                }
                throw fail("unexpected " + t);
            }
            default -> throw fail("unexpected " + t);
        }
    }

    private Expr parsePostfix(Expr node) {
        while (true) {
            Token t = peek();
            if (t.is(".") || t.is("[")) {
                node = parseSubscript(node);
            } else if (t.is("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseFilterExpr(Expr node) {
        while (true) {
            Token t = peek();
            if (t.is("|")) {
                node = parseFilter(node, false);
            } else if (t.isName("is")) {
                node = parseTest(node);
            } else if (t.is("(")) {
                node = parseCall(node);
            } else {
                return node;
            }
        }
    }

    private Expr parseSubscript(Expr node) {
        Token t = next();
        if (t.is(".")) {
            Token attr = next();
            if (attr.kind() == Kind.NAME) {
                return new Expr.GetAttr(node, attr.text());
            }
            if (attr.kind() != Kind.INTEGER) {
                throw fail("expected name or number, got " + attr);
            }
            return new Expr.GetItem(node, new Expr.Const(attr.value()));
        }
        List<Expr> args = new ArrayList<>();
        while (!peek().is("]")) {
            if (!args.isEmpty()) {
                expectOp(",");
            }
            args.add(parseSubscribed());
        }
        expectOp("]");
        Expr key = args.size() == 1 ? args.get(0) : new Expr.TupleLit(args);
        return new Expr.GetItem(node, key);
    }

    private Expr parseSubscribed() {
        List<Expr> args = new ArrayList<>();
        if (peek().is(":")) {
            next();
            args.add(null);
        } else {
            Expr node = parseExpression(true);
            if (!peek().is(":")) {
                return node;
            }
            next();
            args.add(node);
        }
        if (peek().is(":")) {
            args.add(null);
        } else if (!peek().is("]") && !peek().is(",")) {
            args.add(parseExpression(true));
        } else {
            args.add(null);
        }
        if (peek().is(":")) {
            next();
            if (!peek().is("]") && !peek().is(",")) {
                args.add(parseExpression(true));
            } else {
                args.add(null);
            }
        } else {
            args.add(null);
        }
        return new Expr.Slice(args.get(0), args.get(1), args.get(2));
    }

    private record CallArgs(List<Expr> args, Map<String, Expr> kwargs) {
    }

    private CallArgs parseCallArgs() {
        expectOp("(");
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = new LinkedHashMap<>();
        boolean requireComma = false;
        while (!peek().is(")")) {
            if (requireComma) {
                expectOp(",");
                if (peek().is(")")) {
                    break;
                }
            }
            if (peek().is("*") || peek().is("**")) {
                throw JinjaError.unsupported("*args / **kwargs in a call");
            }
            if (peek().kind() == Kind.NAME && peek(1).is("=")) {
                String key = next().text();
                next();
                kwargs.put(key, parseExpression(true));
            } else {
                if (!kwargs.isEmpty()) {
                    throw fail("invalid syntax for function call expression");
                }
                args.add(parseExpression(true));
            }
            requireComma = true;
        }
        expectOp(")");
        return new CallArgs(args, kwargs);
    }

    private Expr parseCall(Expr node) {
        CallArgs a = parseCallArgs();
        return new Expr.Call(node, a.args(), a.kwargs());
    }

    private String dottedName() {
        StringBuilder name = new StringBuilder(expectNameToken());
        while (peek().is(".") && peek(1).kind() == Kind.NAME) {
            next();
            name.append('.').append(next().text());
        }
        return name.toString();
    }

    /** Filters {@code |a(x)|b}; with {@code noLeadingPipe} the first one has no pipe (block headers). */
    private Expr parseFilter(Expr node, boolean noLeadingPipe) {
        boolean first = true;
        while (peek().is("|") || (noLeadingPipe && first)) {
            if (!(noLeadingPipe && first)) {
                expectOp("|");
            }
            first = false;
            String name = dottedName();
            CallArgs a = peek().is("(") ? parseCallArgs() : new CallArgs(List.of(), Map.of());
            node = new Expr.Filter(node, name, a.args(), a.kwargs());
        }
        return node;
    }

    private Expr parseTest(Expr node) {
        expectName("is");
        boolean negated = skipName("not");
        String name = dottedName();
        List<Expr> args = new ArrayList<>();
        Map<String, Expr> kwargs = Map.of();
        Token t = peek();
        if (t.is("(")) {
            CallArgs a = parseCallArgs();
            args.addAll(a.args());
            kwargs = a.kwargs();
        } else if ((t.kind() == Kind.NAME || t.kind() == Kind.STRING || t.kind() == Kind.INTEGER || t.kind() == Kind.FLOAT
                || t.is("[") || t.is("{")) && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
            if (t.isName("is")) {
                throw fail("You cannot chain multiple tests with is");
            }
            Expr arg = parsePostfix(parsePrimary());
            args.add(arg);
        }
        return new Expr.Test(node, name, args, kwargs, negated);
    }
}
