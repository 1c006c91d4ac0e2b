package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a DPO record into a {@link DpoPair}. Two shapes:
 * <ul>
 * <li>{@code {"chosen": [msgs], "rejected": [msgs]}}: each side a full message list, read and
 * checked like an SFT conversation ({@link MessageList}, {@link RoleRules});</li>
 * <li>{@code {"prompt": "..." | [msgs], "chosen": "...", "rejected": "..."}}: each side is the
 * prompt (a string is one user message; a list is read like a message list, no assistant needed)
 * followed by one assistant message with that side's string.</li>
 * </ul>
 * Both shapes accept a record-level {@code system} (a string; empty or null means none: a leading
 * system message on both sides) and {@code tools} (both sides). Then the pair rule of
 * {@link DpoPair#of}: a shared prompt and an assistant message on each side.
 */
final class Dpo {
    private Dpo() {
    }

    /** One side before the pair rule: its messages, where each came from, and its conversation. */
    private record Side(Conversation conversation, List<String> names) {
    }

    static DpoPair read(JsonNode record) throws RecordRejected {
        JsonNode chosen = record.get("chosen");
        JsonNode rejected = record.get("rejected");
        if (chosen == null || rejected == null) {
            throw new RecordRejected(Reason.MISSING_FIELD, "a DPO record needs both \"chosen\" and \"rejected\"; \""
                    + (chosen == null ? "chosen" : "rejected") + "\" is missing");
        }
        String system = RecordFields.optionalSystem(record);
        Object recordTools = MessageList.tools(record.get("tools"), "tools");
        Side c;
        Side r;
        if (record.has("prompt")) {
            requireReply(chosen, "chosen");
            requireReply(rejected, "rejected");
            MessageList.Read prompt = prompt(record.get("prompt"));
            c = withPrompt(prompt, system, recordTools, chosen.asText(), "chosen");
            r = withPrompt(prompt, system, recordTools, rejected.asText(), "rejected");
        } else {
            if (chosen.isTextual() && rejected.isTextual()) {
                throw new RecordRejected(Reason.MISSING_FIELD, "a DPO record whose \"chosen\" and \"rejected\" are strings needs \"prompt\"");
            }
            c = fullSide(chosen, "chosen", system, recordTools);
            r = fullSide(rejected, "rejected", system, recordTools);
        }
        return DpoPair.of(c.conversation(), r.conversation(), c.names(), r.names());
    }

    private static void requireReply(JsonNode reply, String field) throws RecordRejected {
        if (!reply.isTextual()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"" + field + "\" must be a string (the " + field
                    + " reply) when the record has \"prompt\", found " + PlainJson.typeName(reply)
                    + "; a record whose sides are full message lists has no \"prompt\"");
        }
    }

    private static MessageList.Read prompt(JsonNode prompt) throws RecordRejected {
        if (prompt.isTextual()) {
            return new MessageList.Read(List.of(message("user", prompt.asText())), List.of("prompt"), null);
        }
        if (prompt.isArray()) {
            return MessageList.read(prompt, "prompt");
        }
        throw new RecordRejected(Reason.WRONG_TYPE, "\"prompt\" must be a string or a list of messages, found " + PlainJson.typeName(prompt));
    }

    private static Side withPrompt(MessageList.Read prompt, String system, Object recordTools, String reply, String field)
            throws RecordRejected {
        List<Map<String, Object>> messages = new ArrayList<>(prompt.messages());
        List<String> names = new ArrayList<>(prompt.names());
        messages.add(message("assistant", reply));
        names.add(field);
        return side(messages, names, system, MessageList.mergeTools(recordTools, prompt.tools(), "prompt"), field);
    }

    private static Side fullSide(JsonNode list, String field, String system, Object recordTools) throws RecordRejected {
        if (!list.isArray()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"" + field + "\" must be a list of messages (or, with \"prompt\", a string), found "
                    + PlainJson.typeName(list));
        }
        MessageList.Read read = MessageList.read(list, field);
        return side(read.messages(), read.names(), system, MessageList.mergeTools(recordTools, read.tools(), field), field);
    }

    private static Side side(List<Map<String, Object>> messages, List<String> names, String system, Object tools, String field)
            throws RecordRejected {
        if (system != null) {
            if ("system".equals(messages.get(0).get("role"))) {
                throw new RecordRejected(Reason.ROLE_ORDER, names.get(0) + " is a system message but the record's \"system\" field "
                        + "gives one too; give the system prompt once");
            }
            messages = new ArrayList<>(messages);
            names = new ArrayList<>(names);
            messages.add(0, message("system", system));
            names.add(0, "system");
        }
        RoleRules.check(messages, names, field, true);
        return new Side(new Conversation(messages, tools), names);
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }
}
