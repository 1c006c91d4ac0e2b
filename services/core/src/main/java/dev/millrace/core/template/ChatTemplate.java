package dev.millrace.core.template;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.jinja.Deadline;
import dev.millrace.core.template.jinja.HfEnvironment;
import dev.millrace.core.template.jinja.JinjaError;
import dev.millrace.core.template.jinja.RenderPieces;
import dev.millrace.core.template.jinja.RenderedTemplate;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Renders a HuggingFace chat template the way {@code apply_chat_template(..., tokenize=False)} does
 * with Python Jinja2 (see {@link HfEnvironment}): trim_blocks and lstrip_blocks, {@code {{-}}}
 * whitespace control, Python semantics for every expression, HF's {@code tojson},
 * {@code raise_exception} and {@code strftime_now}, {@code {% generation %}}, special tokens as
 * variables, template syntax inside message content left alone. Each template source is parsed once
 * per instance. Every compile or render error becomes {@code TEMPLATE_ERROR} with the template's
 * message.
 */
public final class ChatTemplate {
    private static final HfEnvironment SHARED = new HfEnvironment();
    private static final Set<String> RESERVED = Set.of("messages", "tools", "documents", "add_generation_prompt");

    private final TokenizerConfig config;
    private final HfEnvironment environment;
    private final Map<String, Object> compiled = new ConcurrentHashMap<>();

    public ChatTemplate(TokenizerConfig config) {
        this(config, SHARED);
    }

    /** With a given environment (e.g. one whose {@code strftime_now} clock is pinned). */
    public ChatTemplate(TokenizerConfig config, HfEnvironment environment) {
        this.config = config;
        this.environment = environment;
    }

    public TokenizerConfig config() {
        return config;
    }

    public String render(Conversation conversation, boolean addGenerationPrompt) throws RecordRejected {
        return render(conversation, addGenerationPrompt, Map.of());
    }

    /**
     * With extra template variables (e.g. {@code enable_thinking}); they win over the special
     * tokens, as in HF, and may not replace {@code messages}, {@code tools}, {@code documents} or
     * {@code add_generation_prompt}.
     */
    public String render(Conversation conversation, boolean addGenerationPrompt, Map<String, ?> extraVariables)
            throws RecordRejected {
        return render(conversation, addGenerationPrompt, extraVariables, false, Deadline.NONE).text();
    }

    /**
     * Like {@link #render(Conversation, boolean)}, stopping once {@code deadline} has passed: then the
     * record is rejected with {@code RECORD_TIME_BUDGET_EXCEEDED} ({@link #budgetExceeded}).
     */
    public String render(Conversation conversation, boolean addGenerationPrompt, Deadline deadline) throws RecordRejected {
        return render(conversation, addGenerationPrompt, Map.of(), false, deadline).text();
    }

    /** Like {@link #render(Conversation, boolean, Map)}, also reporting {@code {% generation %}} spans. */
    public RenderedTemplate renderWithGenerationSpans(Conversation conversation, boolean addGenerationPrompt,
                                                      Map<String, ?> extraVariables) throws RecordRejected {
        return render(conversation, addGenerationPrompt, extraVariables, true, Deadline.NONE);
    }

    /**
     * The render of {@code conversation} (without the generation prompt) in pieces from which each
     * prefix's render can be read (see {@link RenderPieces}), or null when this template does not
     * allow that or the render fails: then render each prefix.
     */
    public RenderPieces renderPieces(Conversation conversation, Deadline deadline) throws RecordRejected {
        String source;
        HfEnvironment.Compiled template;
        try {
            source = config.selectTemplate(conversation.tools() != null);
            template = compile(source);
        } catch (IllegalStateException | JinjaError e) {
            return null;
        }
        if (!template.prefixRendersReadable()) {
            return null;
        }
        Map<String, Object> bindings = new HashMap<>(config.templateVariables());
        bindings.put("messages", conversation.messages());
        bindings.put("tools", conversation.tools());
        bindings.put("documents", null);
        try {
            return environment.renderPieces(template, bindings, deadline);
        } catch (Deadline.Exceeded e) {
            throw budgetExceeded(deadline, "rendering " + conversation.size() + " messages");
        }
    }

    /** The rejection of a record whose template work went past its time budget. */
    public static RecordRejected budgetExceeded(Deadline deadline, String during) {
        return new RecordRejected(Reason.RECORD_TIME_BUDGET_EXCEEDED, "the chat template work on this record took longer than its time budget"
                + " (record-time-budget-ms=" + deadline.budget().toMillis() + "); stopped while " + during);
    }

    private RenderedTemplate render(Conversation conversation, boolean addGenerationPrompt, Map<String, ?> extraVariables,
                                    boolean trackGeneration, Deadline deadline) throws RecordRejected {
        for (String key : extraVariables.keySet()) {
            if (RESERVED.contains(key)) {
                throw new IllegalArgumentException("'" + key + "' is set by the renderer, not an extra variable");
            }
        }
        String source;
        try {
            source = config.selectTemplate(conversation.tools() != null);
        } catch (IllegalStateException e) {
            throw new RecordRejected(Reason.TEMPLATE_ERROR, e.getMessage());
        }
        Map<String, Object> bindings = new HashMap<>(config.templateVariables());
        bindings.putAll(extraVariables);
        bindings.put("messages", conversation.messages());
        bindings.put("tools", conversation.tools());
        bindings.put("documents", null);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        try {
            return environment.render(compile(source), bindings, trackGeneration, deadline);
        } catch (JinjaError e) {
            throw new RecordRejected(Reason.TEMPLATE_ERROR, describe(e));
        } catch (Deadline.Exceeded e) {
            throw budgetExceeded(deadline, "rendering " + conversation.size() + " messages"
                    + (addGenerationPrompt ? " with add_generation_prompt=True" : ""));
        }
    }

    private HfEnvironment.Compiled compile(String source) {
        Object c = compiled.get(source);
        if (c == null) {
            try {
                c = environment.compile(source);
            } catch (JinjaError e) {
                c = e; // a broken template fails every record the same way; remember that too
            }
            compiled.put(source, c);
        }
        if (c instanceof JinjaError e) {
            throw e;
        }
        return (HfEnvironment.Compiled) c;
    }

    private static String describe(JinjaError e) {
        if (e.raisedByTemplate()) {
            return e.detail();
        }
        return "chat template failed: " + e.getMessage();
    }
}
