package dev.millrace.core.template;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.template.jinja.Strings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Whether a rendered text carries the whole conversation it was rendered from. A template may
 * ignore parts of a record (the bundled and MiniMind templates drop {@code tool_calls} and
 * {@code tool} messages), which would train on broken text with nothing to show for it.
 *
 * <p>The check, in message order: each message's content, stripped of leading and trailing
 * whitespace as Python's {@code str.strip()} strips it, occurs in the text after the previous
 * message's content (a list of parts: each text part, in order; null or empty content: nothing to
 * find); and each of the message's tool calls' function names ({@code function.name}, or a bare
 * {@code name}) occurs after the start of that message's content, in call order. Reasoning is not
 * looked for, since templates may drop it from history: neither reasoning fields
 * ({@code reasoning_content}) nor, in an assistant message's content, a reasoning block inline —
 * everything up to the last {@code </think>}, which is what reasoning templates (Qwen3, DeepSeek R1)
 * themselves cut off ({@code content.split('</think>')[-1]}).
 *
 * <p>A pure function of the conversation and the text; a template is never re-rendered.
 */
public final class RenderCoverage {
    private RenderCoverage() {
    }

    /**
     * The first part of the conversation the text does not carry.
     *
     * @param message the message's index in the conversation
     * @param part what is missing: {@code "content"}, {@code "content[k]"} (a text part), or
     *             {@code "tool_calls[k]"} (a function name)
     * @param missing the text that was looked for and not found
     */
    public record Gap(int message, String part, String missing) {
        /** One line for a dead letter: which message, which part, and the start of the missing text. */
        public String describe() {
            String shown = missing.length() > 80 ? missing.substring(0, 80) + "…" : missing;
            String what = part.startsWith("tool_calls") ? "the function name" : "the text";
            return "messages[" + message + "]." + part + ": " + what + " \"" + shown
                    + "\" does not occur in the rendered text after the messages before it"
                    + " (the chat template leaves it out)";
        }
    }

    /** @return empty when the text carries every message's content and tool call names */
    public static Optional<Gap> check(Conversation conversation, String rendered) {
        int from = 0; // where the next message's content may start: after the previous one's
        List<Map<String, Object>> messages = conversation.messages();
        for (int i = 0; i < messages.size(); i++) {
            Map<String, Object> message = messages.get(i);
            int messageStart = -1;
            List<Needle> needles = contentNeedles(message.get("content"), "assistant".equals(message.get("role")));
            for (Needle needle : needles) {
                int at = rendered.indexOf(needle.text(), from);
                if (at < 0) {
                    return Optional.of(new Gap(i, needle.part(), needle.text()));
                }
                messageStart = messageStart < 0 ? at : messageStart;
                from = at + needle.text().length();
            }
            int callFrom = messageStart < 0 ? from : messageStart;
            List<String> names = functionNames(message.get("tool_calls"));
            for (int k = 0; k < names.size(); k++) {
                String name = names.get(k);
                if (name == null || name.isEmpty()) {
                    continue; // nothing to look for
                }
                int at = rendered.indexOf(name, callFrom);
                if (at < 0) {
                    return Optional.of(new Gap(i, "tool_calls[" + k + "]", name));
                }
                callFrom = at + name.length();
            }
        }
        return Optional.empty();
    }

    private record Needle(String part, String text) {
    }

    private static final String THINK_END = "</think>";

    /** The stripped, non-empty texts of a content value, in order, without an assistant's inline reasoning. */
    private static List<Needle> contentNeedles(Object content, boolean assistant) {
        List<Needle> out = new ArrayList<>();
        if (content instanceof String s) {
            int thinkEnd = assistant ? s.lastIndexOf(THINK_END) : -1;
            add(out, "content", thinkEnd < 0 ? s : s.substring(thinkEnd + THINK_END.length()));
        } else if (content instanceof List<?> parts) {
            for (int k = 0; k < parts.size(); k++) {
                if (parts.get(k) instanceof Map<?, ?> p && p.get("text") instanceof String s) {
                    add(out, "content[" + k + "]", s);
                }
            }
        }
        return out;
    }

    private static void add(List<Needle> out, String part, String text) {
        String stripped = Strings.strip(text);
        if (!stripped.isEmpty()) {
            out.add(new Needle(part, stripped));
        }
    }

    /** Each tool call's function name ({@code function.name}, else {@code name}); null where it has none. */
    private static List<String> functionNames(Object toolCalls) {
        List<String> names = new ArrayList<>();
        if (toolCalls instanceof List<?> calls) {
            for (Object call : calls) {
                String name = null;
                if (call instanceof Map<?, ?> c) {
                    if (c.get("function") instanceof Map<?, ?> f && f.get("name") instanceof String n) {
                        name = n;
                    } else if (c.get("name") instanceof String n) {
                        name = n;
                    }
                }
                names.add(name);
            }
        }
        return names;
    }
}
