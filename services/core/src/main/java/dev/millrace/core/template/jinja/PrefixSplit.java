package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.tree.ExpressionNode;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.TextNode;
import com.hubspot.jinjava.tree.parse.ExpressionToken;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether a template's render of a conversation's prefix can be read off one render of the whole
 * conversation, and where. It can when the template's top level is {@code pre}, one
 * {@code {% for x in messages %}} loop, {@code post}, and (checked here, conservatively, on the
 * template's syntax) the output and state of the loop's i-th iteration can depend on
 * {@code messages[:i+1]} only, and {@code post}'s output on nothing the loop or the conversation's
 * length decides:
 * <ul>
 * <li>{@code messages} appears only as that loop's iterable and as {@code messages[0]} (the same
 *     message in every prefix the span rule renders: those all hold at least one message);</li>
 * <li>{@code loop} outside nested loops is used only through attributes that look back
 *     ({@code index}, {@code index0}, {@code first}, {@code previtem}, {@code depth}, {@code depth0},
 *     {@code cycle}, {@code changed}), never {@code last}, {@code length}, {@code revindex},
 *     {@code revindex0}, {@code nextitem};</li>
 * <li>{@code add_generation_prompt} appears in {@code post} only;</li>
 * <li>{@code post} holds text, expressions and {@code if} only, and reads no name the template
 *     assigns (so no namespace the loop changed, no macro), and none of {@code messages},
 *     {@code loop}, {@code add_generation_prompt} is ever assigned;</li>
 * <li>the loop has one target, no filter, no {@code else}, and is not recursive; every tag is one
 *     whose expressions this check reads.</li>
 * </ul>
 * Then for every n of at least 1, {@code render(messages[:n], g)} is
 * {@code pre + (the first n iterations' output) + post(g)}, by induction over the iterations: each
 * one sees the same message, the same look-back loop attributes and the same state as in the whole
 * render. Anything the check cannot read makes it answer "no", and the caller renders each prefix.
 */
final class PrefixSplit {
    private static final String MESSAGES = "messages";
    private static final String LOOP = "loop";
    private static final String GENERATION_PROMPT = "add_generation_prompt";
    private static final Set<String> LOOK_BACK = Set.of("index", "index0", "first", "previtem", "depth", "depth0", "cycle", "changed");
    private static final Set<String> KNOWN_TAGS = Set.of("if", "elif", "else", "for", "set", "with", "filter", "macro", "generation",
            "break", "continue");

    /** The index of the loop among the top-level nodes. */
    final int loopIndex;

    private PrefixSplit(int loopIndex) {
        this.loopIndex = loopIndex;
    }

    private enum Region { PRE, BODY, POST }

    /** Thrown inside the check when the template does something it cannot vouch for. */
    private static final class No extends RuntimeException {
        No() {
            super(null, null, false, false);
        }
    }

    /** The split of {@code root}, or null when its prefix renders cannot be read off one render. */
    static PrefixSplit of(Node root, ExprCache cache) {
        List<Node> top = root.getChildren();
        int loopIndex = -1;
        for (int i = 0; i < top.size(); i++) {
            if (top.get(i) instanceof TagNode t && t.getName().equals("for")
                    && cache.forHeader(t.getHelpers()).iterable() instanceof Expr.Name n && n.name().equals(MESSAGES)) {
                loopIndex = i;
                break;
            }
        }
        if (loopIndex < 0) {
            return null;
        }
        try {
            TagNode loop = (TagNode) top.get(loopIndex);
            Parser.ForHeader h = cache.forHeader(loop.getHelpers());
            if (h.targets().size() != 1 || h.unpack() || h.filter() != null || h.recursive()) {
                return null;
            }
            Check check = new Check(cache);
            for (int i = 0; i < top.size(); i++) {
                if (i == loopIndex) {
                    check.assigned(h.targets());
                    for (Node child : loop.getChildren()) {
                        if (Tags.isMarker(child, "else")) {
                            return null;
                        }
                        check.node(child, Region.BODY, 0);
                    }
                } else {
                    check.node(top.get(i), i < loopIndex ? Region.PRE : Region.POST, 0);
                }
            }
            for (String name : check.readInPost) {
                if (check.assigned.contains(name)) {
                    return null;
                }
            }
            for (String name : List.of(MESSAGES, LOOP, GENERATION_PROMPT)) {
                if (check.assigned.contains(name)) {
                    return null;
                }
            }
            return new PrefixSplit(loopIndex);
        } catch (No | JinjaError e) {
            return null;
        }
    }

    private static final class Check {
        private final ExprCache cache;
        final Set<String> assigned = new HashSet<>();
        final Set<String> readInPost = new HashSet<>();

        Check(ExprCache cache) {
            this.cache = cache;
        }

        void assigned(List<String> names) {
            assigned.addAll(names);
        }

        /** @param innerLoops how many loops (other than the messages loop) enclose the node */
        void node(Node node, Region region, int innerLoops) {
            if (node instanceof TextNode) {
                return;
            }
            if (node instanceof ExpressionNode) {
                expr(cache.expression(((ExpressionToken) node.getMaster()).getExpr()), region, innerLoops);
                return;
            }
            if (!(node instanceof TagNode tag) || !KNOWN_TAGS.contains(tag.getName())) {
                throw new No();
            }
            String helpers = tag.getHelpers();
            if (region == Region.POST && !List.of("if", "elif", "else").contains(tag.getName())) {
                throw new No();
            }
            switch (tag.getName()) {
                case "if", "elif" -> {
                    expr(cache.expression(helpers), region, innerLoops);
                    children(tag, region, innerLoops);
                }
                case "for" -> {
                    Parser.ForHeader h = cache.forHeader(helpers);
                    if (h.recursive()) {
                        throw new No();
                    }
                    assigned(h.targets());
                    expr(h.iterable(), region, innerLoops);
                    if (h.filter() != null) {
                        // the filter runs before the loop's own loop object exists: a loop there is the enclosing one
                        expr(h.filter(), region, innerLoops);
                    }
                    children(tag, region, innerLoops + 1);
                }
                case "set" -> {
                    Parser.SetHeader h = cache.setHeader(helpers);
                    assigned(h.targets());
                    if (h.value() != null) {
                        expr(h.value(), region, innerLoops);
                    }
                    if (h.blockFilter() != null) {
                        expr(h.blockFilter(), region, innerLoops);
                    }
                    children(tag, region, innerLoops);
                }
                case "with" -> {
                    cache.withHeader(helpers).forEach((name, value) -> {
                        assigned.add(name);
                        expr(value, region, innerLoops);
                    });
                    children(tag, region, innerLoops);
                }
                case "filter" -> {
                    expr(cache.filterHeader(helpers), region, innerLoops);
                    children(tag, region, innerLoops);
                }
                case "macro" -> {
                    Parser.MacroHeader h = cache.macroHeader(helpers);
                    assigned.add(h.name());
                    assigned(h.params());
                    h.defaults().values().forEach(e -> expr(e, region, innerLoops));
                    // A macro may be called from anywhere, the messages loop's body included.
                    children(tag, region, 0);
                }
                default -> children(tag, region, innerLoops); // else, generation, break, continue
            }
        }

        private void children(TagNode tag, Region region, int innerLoops) {
            for (Node child : tag.getChildren()) {
                node(child, region, innerLoops);
            }
        }

        void expr(Expr e, Region region, int innerLoops) {
            if (e instanceof Expr.GetItem item && item.object() instanceof Expr.Name n && n.name().equals(MESSAGES)) {
                if (!(item.key() instanceof Expr.Const c && c.value() instanceof Number k && k.longValue() == 0
                        && !(c.value() instanceof Double) && !(c.value() instanceof Float))) {
                    throw new No();
                }
                return;
            }
            if (e instanceof Expr.GetAttr attr && attr.object() instanceof Expr.Name n && n.name().equals(LOOP)) {
                if (innerLoops == 0 && !LOOK_BACK.contains(attr.name())) {
                    throw new No();
                }
                return;
            }
            if (e instanceof Expr.Call call && call.callee() instanceof Expr.GetAttr attr && attr.object() instanceof Expr.Name n
                    && n.name().equals(LOOP) && innerLoops == 0 && !LOOK_BACK.contains(attr.name())) {
                throw new No();
            }
            if (e instanceof Expr.Name n) {
                switch (n.name()) {
                    case MESSAGES -> throw new No();
                    case LOOP -> {
                        if (innerLoops == 0) {
                            throw new No(); // the loop object itself, passed on or printed
                        }
                    }
                    case GENERATION_PROMPT -> {
                        if (region != Region.POST) {
                            throw new No();
                        }
                    }
                    default -> {
                    }
                }
                if (region == Region.POST) {
                    readInPost.add(n.name());
                }
                return;
            }
            for (Expr child : e.children()) {
                if (child != null) {
                    expr(child, region, innerLoops);
                }
            }
        }
    }
}
