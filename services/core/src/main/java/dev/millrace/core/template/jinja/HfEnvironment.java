package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Jinja2 the way HF's {@code apply_chat_template} sets it up (ImmutableSandboxedEnvironment,
 * trim_blocks, lstrip_blocks, loop controls, {@code {% generation %}}, HF's {@code tojson},
 * {@code raise_exception}, {@code strftime_now}), built on Jinjava: Jinjava parses the template
 * (whitespace control, tag structure, macros); every expression and every statement tag is
 * evaluated with Python semantics by this package. One instance is thread-safe and meant to be
 * shared; {@link #compile} parses a template once, {@link #render} renders it many times.
 */
public final class HfEnvironment {
    /** Jinjava tags Jinja2 does not have (or that need a loader HF does not give): an error, as in Jinja2. */
    private static final Set<String> DISABLED_TAGS = Set.of("do", "cycle", "ifchanged", "unless", "print", "include",
            "import", "from", "extends", "block", "autoescape");

    private final Jinjava jinjava;
    private final JinjavaConfig config;
    private final ExprCache cache = new ExprCache();
    private final Map<String, Object> globals;

    public HfEnvironment() {
        this(ZonedDateTime::now);
    }

    /** With the clock {@code strftime_now} reads (tests pin it). */
    public HfEnvironment(Supplier<ZonedDateTime> clock) {
        config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false) // done by SourcePrep, the way Jinja2 does it
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withEnableRecursiveMacroCalls(true)
                .withDisabled(Map.of(Context.Library.TAG, DISABLED_TAGS))
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)
                        .withParseWhitespaceControlStrictly(true)
                        .build())
                .build();
        jinjava = new Jinjava(config);
        for (Tag tag : Tags.all()) {
            jinjava.getGlobalContext().registerTag(tag);
        }
        globals = Map.copyOf(Globals.create(clock));
    }

    /** A template parsed and checked once. */
    public static final class Compiled {
        private final Node root;
        /** Where its prefix renders can be read off one render; null when they cannot. */
        private final PrefixSplit split;

        private Compiled(Node root, PrefixSplit split) {
            this.root = root;
            this.split = split;
        }

        /** Whether {@link #renderPieces} can stand in for this template's prefix renders. */
        public boolean prefixRendersReadable() {
            return split != null;
        }
    }

    /** Parses and checks a template as Jinja2 compiles it; a problem is a {@link JinjaError}. */
    public Compiled compile(String source) {
        // Jinja2's lexer: every newline sequence becomes "\n"; one trailing newline is dropped.
        String normalized = source.replace("\r\n", "\n").replace('\r', '\n');
        if (normalized.endsWith("\n")) {
            normalized = normalized.substring(0, normalized.length() - 1);
        }
        normalized = SourcePrep.apply(normalized);
        HfInterpreter parser = interpreter(Map.of(), false, true, Deadline.NONE);
        Node root;
        JinjavaInterpreter.pushCurrent(parser);
        try {
            root = parser.parse(normalized);
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        for (TemplateError error : parser.collected()) {
            throw JinjaError.syntax(error.getMessage() + (error.getLineno() > 0 ? " (line " + error.getLineno() + ")" : ""));
        }
        new TemplateChecker(cache).check(root);
        return new Compiled(root, PrefixSplit.of(root, cache));
    }

    /** Renders with these variables (plain Java values; null means None). */
    public RenderedTemplate render(Compiled template, Map<String, ?> variables, boolean trackGeneration) {
        return render(template, variables, trackGeneration, Deadline.NONE);
    }

    /**
     * Renders, stopping with {@link Deadline.Exceeded} once {@code deadline} has passed (checked
     * before rendering and then cooperatively while it runs).
     */
    public RenderedTemplate render(Compiled template, Map<String, ?> variables, boolean trackGeneration, Deadline deadline) {
        deadline.check();
        Map<String, Object> bindings = new HashMap<>();
        variables.forEach((k, v) -> bindings.put(k, PyValues.fromJava(v)));
        HfInterpreter in = interpreter(bindings, trackGeneration, false, deadline);
        String text;
        JinjavaInterpreter.pushCurrent(in);
        try {
            text = in.render(template.root, false);
        } catch (RuntimeException e) {
            Deadline.Exceeded exceeded = exceeded(e);
            if (exceeded != null) {
                throw exceeded;
            }
            throw asJinjaError(e);
        } catch (StackOverflowError e) {
            throw new JinjaError("RecursionError", "maximum recursion depth exceeded");
        } finally {
            JinjavaInterpreter.popCurrent();
        }
        if (!trackGeneration) {
            return new RenderedTemplate(text, List.of());
        }
        return spans(text);
    }

    /**
     * Renders the whole conversation once, in the pieces of {@link RenderPieces}, when the template
     * allows it ({@link PrefixSplit}); null when it does not, or when anything about this render is
     * not as expected (the caller then renders each prefix). {@code variables} are as for
     * {@link #render}; {@code add_generation_prompt} is set here.
     *
     * @throws Deadline.Exceeded when the deadline passes
     */
    public RenderPieces renderPieces(Compiled template, Map<String, ?> variables, Deadline deadline) {
        PrefixSplit split = template.split;
        if (split == null) {
            return null;
        }
        deadline.check();
        Map<String, Object> bindings = new HashMap<>();
        variables.forEach((k, v) -> bindings.put(k, PyValues.fromJava(v)));
        bindings.put("add_generation_prompt", Boolean.FALSE);
        HfInterpreter in = interpreter(bindings, false, false, deadline);
        List<Node> top = template.root.getChildren();
        JinjavaInterpreter.pushCurrent(in);
        try {
            String pre = renderEach(in, top.subList(0, split.loopIndex));
            Node loopNode = top.get(split.loopIndex);
            HfInterpreter.IterationTrack track = in.track(loopNode);
            String loop = loopNode.render(in).getValue();
            if (!loop.equals(track.text())) {
                return null;
            }
            List<Node> post = top.subList(split.loopIndex + 1, top.size());
            String postWithout = renderEach(in, post);
            in.getContext().put("add_generation_prompt", Boolean.TRUE);
            String postWith = renderEach(in, post);
            return new RenderPieces(pre, loop, track.ends(), postWithout, postWith);
        } catch (RuntimeException e) {
            Deadline.Exceeded exceeded = exceeded(e);
            if (exceeded != null) {
                throw exceeded;
            }
            return null; // the prefix renders will say what is wrong, as without this shortcut
        } catch (StackOverflowError e) {
            return null;
        } finally {
            JinjavaInterpreter.popCurrent();
        }
    }

    private static String renderEach(HfInterpreter in, List<Node> nodes) {
        StringBuilder out = new StringBuilder();
        for (Node node : nodes) {
            out.append(node.render(in).getValue());
        }
        return out.toString();
    }

    private HfInterpreter interpreter(Map<String, Object> bindings, boolean trackGeneration, boolean collectErrors, Deadline deadline) {
        Context context = new Context(jinjava.getGlobalContext(), bindings, config.getDisabled());
        return new HfInterpreter(jinjava, context, config, cache, globals, trackGeneration, collectErrors, deadline);
    }

    /** The deadline breach behind {@code e}, however Jinjava wrapped it, or null. */
    private static Deadline.Exceeded exceeded(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof Deadline.Exceeded d) {
                return d;
            }
        }
        return null;
    }

    static JinjaError asJinjaError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JinjaError j) {
                return j;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return new JinjaError("TemplateRuntimeError", String.valueOf(root.getMessage()));
    }

    private static RenderedTemplate spans(String marked) {
        StringBuilder clean = new StringBuilder(marked.length());
        List<int[]> spans = new ArrayList<>();
        int depth = 0;
        int start = 0;
        int pos = 0;
        for (int i = 0; i < marked.length(); ) {
            int c = marked.codePointAt(i);
            i += Character.charCount(c);
            if (c == Tags.GEN_OPEN) {
                if (depth++ == 0) {
                    start = pos;
                }
            } else if (c == Tags.GEN_CLOSE) {
                if (--depth == 0) {
                    spans.add(new int[] {start, pos});
                }
            } else {
                clean.appendCodePoint(c);
                pos++;
            }
        }
        return new RenderedTemplate(clean.toString(), spans);
    }
}
