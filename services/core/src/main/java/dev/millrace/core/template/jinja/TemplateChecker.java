package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.tree.ExpressionNode;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;

/**
 * What Jinja2 rejects when it compiles a template, before rendering anything: a syntax error in any
 * expression (reached or not), {@code break}/{@code continue} outside a loop, and an unknown filter
 * or test, except inside an {@code if} or an inline {@code x if y else z}, where Jinja2 defers that
 * error to the moment the expression runs (a "soft" frame).
 */
final class TemplateChecker {
    private final ExprCache cache;

    TemplateChecker(ExprCache cache) {
        this.cache = cache;
    }

    void check(Node root) {
        for (Node child : root.getChildren()) {
            node(child, false, false);
        }
    }

    private void children(Node node, boolean soft, boolean inLoop) {
        for (Node child : node.getChildren()) {
            node(child, soft, inLoop);
        }
    }

    private void node(Node node, boolean soft, boolean inLoop) {
        if (node instanceof ExpressionNode) {
            expr(cache.expression(((ExpressionToken) node.getMaster()).getExpr()), soft);
            return;
        }
        if (!(node instanceof TagNode tag)) {
            return;
        }
        String helpers = tag.getHelpers();
        switch (tag.getName()) {
            case "if" -> {
                expr(cache.expression(helpers), true);
                for (Node child : tag.getChildren()) {
                    if (Tags.isMarker(child, "elif")) {
                        expr(cache.expression(((TagNode) child).getHelpers()), true);
                    } else {
                        node(child, true, inLoop);
                    }
                }
            }
            case "elif" -> expr(cache.expression(helpers), true);
            case "for" -> {
                Parser.ForHeader h = cache.forHeader(helpers);
                expr(h.iterable(), soft);
                if (h.filter() != null) {
                    expr(h.filter(), false);
                }
                boolean inElse = false;
                for (Node child : tag.getChildren()) {
                    if (Tags.isMarker(child, "else")) {
                        inElse = true;
                        continue;
                    }
                    node(child, false, inElse ? inLoop : true);
                }
            }
            case "set" -> {
                Parser.SetHeader h = cache.setHeader(helpers);
                if (h.value() != null) {
                    expr(h.value(), soft);
                } else {
                    if (h.blockFilter() != null) {
                        expr(h.blockFilter(), soft);
                    }
                    children(tag, false, inLoop);
                }
            }
            case "with" -> {
                cache.withHeader(helpers).values().forEach(e -> expr(e, soft));
                children(tag, false, inLoop);
            }
            case "filter" -> {
                expr(cache.filterHeader(helpers), soft);
                children(tag, false, inLoop);
            }
            case "break", "continue" -> {
                if (!inLoop) {
                    throw JinjaError.syntax("Encountered unknown tag '" + tag.getName() + "'.");
                }
            }
            case "macro" -> {
                cache.macroHeader(helpers).defaults().values().forEach(e -> expr(e, soft));
                children(tag, false, false);
            }
            case "call" -> children(tag, false, false);
            case "raw" -> {
            }
            default -> children(tag, false, inLoop);
        }
    }

    private void expr(Expr e, boolean soft) {
        if (e instanceof Expr.CondExpr) {
            soft = true;
        }
        if (!soft) {
            if (e instanceof Expr.Filter f && !Filters.known(f.name())) {
                throw new JinjaError("TemplateAssertionError", "No filter named '" + f.name() + "'.");
            }
            if (e instanceof Expr.Test t && !Tests.known(t.name())) {
                throw new JinjaError("TemplateAssertionError", "No test named '" + t.name() + "'.");
            }
        }
        for (Expr child : e.children()) {
            expr(child, soft);
        }
    }
}
