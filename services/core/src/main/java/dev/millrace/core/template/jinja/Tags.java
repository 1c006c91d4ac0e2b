package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.FlexibleTag;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.tree.parse.TagToken;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The statement tags with Jinja2's semantics: {@code for} (a fresh scope per iteration, loop
 * filters, {@code else}, {@code loop.*}), {@code if}, {@code set} (namespace attributes, unpacking,
 * block set), {@code with}, {@code filter}, {@code break}/{@code continue} (which stop the rest of
 * the loop body at once), and HF's {@code generation}.
 */
final class Tags {
    private Tags() {
    }

    static List<Tag> all() {
        return List.of(new ForTag(), new IfTag(), new SetTag(), new WithTag(), new FilterTag(), new GenerationTag(), new MacroTag(),
                new LoopControlTag("break", HfInterpreter.LoopControl.BREAK),
                new LoopControlTag("continue", HfInterpreter.LoopControl.CONTINUE));
    }

    static boolean isMarker(Node node, String name) {
        return node instanceof TagNode t && t.getName().equals(name);
    }

    static void assign(HfInterpreter in, List<String> targets, boolean unpack, Object value) {
        if (!unpack) {
            in.getContext().put(targets.get(0), value);
            return;
        }
        List<Object> items = PyValues.iterate(value);
        if (items.size() < targets.size()) {
            throw JinjaError.value("not enough values to unpack (expected " + targets.size() + ", got " + items.size() + ")");
        }
        if (items.size() > targets.size()) {
            throw JinjaError.value("too many values to unpack (expected " + targets.size() + ")");
        }
        for (int i = 0; i < targets.size(); i++) {
            in.getContext().put(targets.get(i), items.get(i));
        }
    }

    static final class ForTag implements Tag {
        @Override
        public String getName() {
            return "for";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            Parser.ForHeader h = in.cache().forHeader(tagNode.getHelpers());
            if (h.recursive()) {
                throw JinjaError.unsupported("recursive for loops");
            }
            List<Node> body = new ArrayList<>();
            List<Node> orElse = new ArrayList<>();
            List<Node> target = body;
            for (Node child : tagNode.getChildren()) {
                if (isMarker(child, "else")) {
                    target = orElse;
                    continue;
                }
                target.add(child);
            }
            List<Object> items = PyValues.iterate(h.iterable().eval(in));
            if (h.filter() != null) {
                List<Object> kept = new ArrayList<>();
                for (Object item : items) {
                    in.tick();
                    try (var scope = in.enterScope()) {
                        assign(in, h.targets(), h.unpack(), item);
                        if (PyValues.truth(h.filter().eval(in))) {
                            kept.add(item);
                        }
                    }
                }
                items = kept;
            }
            if (items.isEmpty()) {
                return in.renderNodes(orElse);
            }
            StringBuilder out = new StringBuilder();
            PyLoop loop = new PyLoop(items);
            in.loopDepth++;
            try {
                for (int i = 0; i < items.size(); i++) {
                    loop.index0 = i;
                    in.tick();
                    try (var scope = in.enterScope()) {
                        in.getContext().put("loop", loop);
                        assign(in, h.targets(), h.unpack(), items.get(i));
                        out.append(in.renderNodes(body));
                    }
                    in.iterationDone(tagNode, out);
                    HfInterpreter.LoopControl control = in.pending;
                    in.pending = HfInterpreter.LoopControl.NONE;
                    if (control == HfInterpreter.LoopControl.BREAK) {
                        break;
                    }
                }
            } finally {
                in.loopDepth--;
            }
            in.loopDone(tagNode, out);
            return out.toString();
        }
    }

    static final class IfTag implements Tag {
        @Override
        public String getName() {
            return "if";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            boolean taken = PyValues.truth(in.eval(tagNode.getHelpers()));
            boolean done = taken;
            List<Node> branch = new ArrayList<>();
            for (Node child : tagNode.getChildren()) {
                if (isMarker(child, "elif")) {
                    if (taken) {
                        break;
                    }
                    taken = !done && PyValues.truth(in.eval(((TagNode) child).getHelpers()));
                    done |= taken;
                    continue;
                }
                if (isMarker(child, "else")) {
                    if (taken) {
                        break;
                    }
                    taken = !done;
                    done = true;
                    continue;
                }
                if (taken) {
                    branch.add(child);
                }
            }
            return in.renderNodes(branch);
        }
    }

    static final class SetTag implements Tag, FlexibleTag {
        @Override
        public String getName() {
            return "set";
        }

        @Override
        public String getEndTagName() {
            return "endset";
        }

        @Override
        public boolean hasEndTag(TagToken tagToken) {
            try {
                return Parser.setHeader(tagToken.getHelpers()).value() == null;
            } catch (JinjaError e) {
                return false;
            }
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            Parser.SetHeader h = in.cache().setHeader(tagNode.getHelpers());
            Object value;
            if (h.value() != null) {
                value = h.value().eval(in);
            } else {
                String body;
                try (var scope = in.enterScope()) {
                    body = in.renderNodes(tagNode.getChildren());
                }
                value = h.blockFilter() == null ? body : h.blockFilter().applyChain(body, in);
            }
            if (h.namespaceAttr() != null) {
                Object ns = in.lookup(h.targets().get(0));
                if (!(ns instanceof PyNamespace namespace)) {
                    throw JinjaError.runtime("cannot assign attribute on non-namespace object");
                }
                namespace.attributes.put(h.namespaceAttr(), value);
            } else {
                assign(in, h.targets(), h.unpack(), value);
            }
            return "";
        }
    }

    static final class WithTag implements Tag {
        @Override
        public String getName() {
            return "with";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            Map<String, Expr> assignments = in.cache().withHeader(tagNode.getHelpers());
            List<Object> values = new ArrayList<>();
            for (Expr e : assignments.values()) {
                values.add(e.eval(in));
            }
            try (var scope = in.enterScope()) {
                int i = 0;
                for (String name : assignments.keySet()) {
                    in.getContext().put(name, values.get(i++));
                }
                return in.renderNodes(tagNode.getChildren());
            }
        }
    }

    static final class FilterTag implements Tag {
        @Override
        public String getName() {
            return "filter";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            Expr.Filter chain = in.cache().filterHeader(tagNode.getHelpers());
            String body;
            try (var scope = in.enterScope()) {
                body = in.renderNodes(tagNode.getChildren());
            }
            return PyText.str(chain.applyChain(body, in));
        }
    }

    /** A macro whose defaults are evaluated when it is called, as in Jinja2. */
    static final class PyMacro extends com.hubspot.jinjava.lib.fn.MacroFunction {
        final Map<String, Expr> defaults;

        PyMacro(List<Node> content, String name, java.util.LinkedHashMap<String, Object> params, Map<String, Expr> defaults,
                com.hubspot.jinjava.interpret.Context scope, int line, int position) {
            super(content, name, params, false, scope, line, position);
            this.defaults = defaults;
        }
    }

    static final class MacroTag implements Tag {
        @Override
        public String getName() {
            return "macro";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            Parser.MacroHeader h = in.cache().macroHeader(tagNode.getHelpers());
            java.util.LinkedHashMap<String, Object> params = new java.util.LinkedHashMap<>();
            h.params().forEach(p -> params.put(p, null));
            in.getContext().addGlobalMacro(new PyMacro(tagNode.getChildren(), h.name(), params, h.defaults(), in.getContext(),
                    tagNode.getLineNumber(), tagNode.getStartPosition()));
            return "";
        }
    }

    /** Private-use code points marking {% generation %} output while spans are tracked. */
    static final char GEN_OPEN = '\uE000';
    static final char GEN_CLOSE = '\uE001';

    static final class GenerationTag implements Tag {
        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            String body = in.renderNodes(tagNode.getChildren());
            return in.trackGeneration ? GEN_OPEN + body + GEN_CLOSE : body;
        }
    }

    static final class LoopControlTag implements Tag {
        private final String name;
        private final HfInterpreter.LoopControl control;

        LoopControlTag(String name, HfInterpreter.LoopControl control) {
            this.name = name;
            this.control = control;
        }

        @Override
        public String getName() {
            return name;
        }

        @Override
        public String getEndTagName() {
            return null;
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            HfInterpreter in = HfInterpreter.of(interpreter);
            if (in.loopDepth == 0) {
                throw JinjaError.syntax("Encountered unknown tag '" + name + "'.");
            }
            in.pending = control;
            return "";
        }
    }
}
