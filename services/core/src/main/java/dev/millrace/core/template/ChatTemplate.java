package dev.millrace.core.template;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.HashMap;
import java.util.Map;

/**
 * Renders a HuggingFace chat template with Jinjava the way {@code apply_chat_template(...,
 * tokenize=False)} does with Python Jinja2: trim_blocks and lstrip_blocks, {@code {{-}}}
 * whitespace control, template syntax inside message content left alone, {@code raise_exception}
 * and {@code strftime_now}, and special tokens as variables. Every render error becomes
 * {@code TEMPLATE_ERROR} with the template's message.
 */
public final class ChatTemplate {
    private final Jinjava jinjava;
    private final TokenizerConfig config;

    public ChatTemplate(TokenizerConfig config) {
        this.config = config;
        JinjavaConfig jc = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false) // content like "{{ 7*7 }}" stays literal
                .withFailOnUnknownTokens(false)          // Python's plain Undefined renders as ""
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true) // {{- and -}} trim like Jinja2
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withEvaluateMapKeys(true)
                        .withIterateOverMapKeys(true)
                        .withKeepNullableLoopValues(true)
                        .build())
                .build();
        jinjava = new Jinjava(jc);
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "raise_exception", TemplateFunctions.class, "raiseException", String.class));
        jinjava.getGlobalContext().registerFunction(new ELFunctionDefinition(
                "", "strftime_now", TemplateFunctions.class, "strftimeNow", String.class));
    }

    public TokenizerConfig config() {
        return config;
    }

    public String render(Conversation conversation, boolean addGenerationPrompt) throws RecordRejected {
        Map<String, Object> bindings = new HashMap<>(config.templateVariables());
        bindings.put("messages", conversation.messages());
        bindings.put("tools", conversation.tools());
        bindings.put("documents", null);
        bindings.put("add_generation_prompt", addGenerationPrompt);
        String template;
        try {
            template = config.selectTemplate(conversation.tools() != null);
        } catch (IllegalStateException e) {
            throw new RecordRejected(Reason.TEMPLATE_ERROR, e.getMessage());
        }
        // Jinja2 (keep_trailing_newline=False) drops one trailing newline of the template source.
        if (template.endsWith("\n")) {
            template = template.substring(0, template.length() - 1);
        }
        RenderResult result;
        try {
            result = jinjava.renderForResult(template, bindings);
        } catch (RuntimeException e) {
            throw new RecordRejected(Reason.TEMPLATE_ERROR, "chat template failed: " + rootMessage(e));
        }
        // renderForResult collects errors instead of throwing; any fatal one means a wrong text.
        for (TemplateError error : result.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new RecordRejected(Reason.TEMPLATE_ERROR, "chat template failed: " + describe(error));
            }
        }
        return result.getOutput();
    }

    private static String describe(TemplateError error) {
        Throwable cause = error.getException();
        while (cause != null) {
            if (cause instanceof TemplateFunctions.TemplateRaised raised) {
                return raised.getMessage();
            }
            cause = cause.getCause();
        }
        return error.getMessage() + (error.getLineno() > 0 ? " (template line " + error.getLineno() + ")" : "");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            if (t instanceof TemplateFunctions.TemplateRaised) {
                break;
            }
            t = t.getCause();
        }
        return t.getMessage();
    }
}
