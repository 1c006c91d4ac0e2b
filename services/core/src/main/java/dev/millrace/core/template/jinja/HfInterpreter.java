package dev.millrace.core.template.jinja;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.MacroFunction;
import com.hubspot.jinjava.tree.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Jinjava interpreter whose expressions are Jinja2 expressions with Python semantics
 * ({@link Parser}, {@link PyValues}) and whose output of a value is Python's {@code str()}.
 */
final class HfInterpreter extends JinjavaInterpreter implements Env {
    enum LoopControl { NONE, BREAK, CONTINUE }

    private final ExprCache cache;
    private final Map<String, Object> globals;
    private final boolean collectErrors;
    private final List<TemplateError> collected = new ArrayList<>();
    final boolean trackGeneration;
    private final Deadline deadline;
    private int ticks;
    LoopControl pending = LoopControl.NONE;
    /** The loop whose iterations are tracked ({@link #track}), or null. */
    private Node trackedLoop;
    private IterationTrack track;
    int loopDepth;

    HfInterpreter(Jinjava jinjava, Context context, JinjavaConfig config, ExprCache cache, Map<String, Object> globals,
                  boolean trackGeneration, boolean collectErrors, Deadline deadline) {
        super(jinjava, context, config);
        this.deadline = deadline;
        this.cache = cache;
        this.globals = globals;
        this.trackGeneration = trackGeneration;
        this.collectErrors = collectErrors;
    }

    ExprCache cache() {
        return cache;
    }

    List<TemplateError> collected() {
        return collected;
    }

    static HfInterpreter of(JinjavaInterpreter interpreter) {
        return (HfInterpreter) interpreter;
    }

    @Override
    public Object lookup(String name) {
        Context context = getContext();
        Object v = context.get(name);
        if (v != null) {
            return v;
        }
        MacroFunction macro = context.getGlobalMacro(name);
        if (macro != null) {
            return macro;
        }
        return globals.get(name);
    }

    Object eval(String expression) {
        return cache.expression(expression).eval(this);
    }

    @Override
    public Object resolveELExpression(String expression, int lineNumber) {
        setLineNumber(lineNumber);
        return eval(expression);
    }

    @Override
    public Object resolveELExpression(String expression, int lineNumber, int position) {
        setLineNumber(lineNumber);
        return eval(expression);
    }

    @Override
    public Object resolveELExpressionSilently(String expression) {
        return eval(expression);
    }

    @Override
    public String getAsString(Object object) {
        return PyText.str(object);
    }

    @Override
    public void addError(TemplateError error) {
        if (error == null) {
            return;
        }
        if (collectErrors) {
            collected.add(error);
            return;
        }
        if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
            throw new JinjaError("TemplateRuntimeError", error.getMessage());
        }
    }

    /** What a tracked loop rendered: its text and its length after each iteration. */
    static final class IterationTrack {
        private final List<Integer> ends = new ArrayList<>();
        private String text;

        int[] ends() {
            return ends.stream().mapToInt(Integer::intValue).toArray();
        }

        String text() {
            return text;
        }
    }

    /** Records the output length after each iteration of {@code loop}, the next time it renders. */
    IterationTrack track(Node loop) {
        trackedLoop = loop;
        track = new IterationTrack();
        return track;
    }

    /** Called by the for tag after each iteration of {@code loop} with what it has rendered so far. */
    void iterationDone(Node loop, StringBuilder out) {
        if (loop == trackedLoop) {
            track.ends.add(out.length());
        }
    }

    /** Called by the for tag when {@code loop} has rendered. */
    void loopDone(Node loop, StringBuilder out) {
        if (loop == trackedLoop) {
            track.text = out.toString();
            trackedLoop = null;
        }
    }

    /**
     * One unit of work (a node rendered, a loop iteration): every {@link Deadline#CHECK_EVERY} of them
     * the deadline is checked, so a long render stops soon after its budget is used up.
     */
    void tick() {
        if (++ticks >= Deadline.CHECK_EVERY) {
            ticks = 0;
            deadline.check();
        }
    }

    /** Renders nodes in order, stopping early after {% break %} / {% continue %}. */
    String renderNodes(List<Node> nodes) {
        StringBuilder sb = new StringBuilder();
        for (Node node : nodes) {
            tick();
            sb.append(node.render(this).getValue());
            if (pending != LoopControl.NONE) {
                break;
            }
        }
        return sb.toString();
    }
}
