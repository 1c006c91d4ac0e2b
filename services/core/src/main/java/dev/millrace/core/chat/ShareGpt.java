package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a ShareGPT record, {@code {"conversations": [{"from", "value"}, ...], "system"?, "tools"?}},
 * into a {@link Conversation}: {@code from} becomes {@code role}, {@code value} becomes
 * {@code content}, then the same rules as every other format ({@link RoleRules}).
 *
 * <p>{@code from}: {@code human} and {@code user} → user, {@code gpt} and {@code assistant} →
 * assistant, {@code system} → system, {@code tool} → tool. ({@code user}/{@code assistant} are
 * accepted because many ShareGPT-style exports use them; the meaning is the same, nothing is
 * guessed.) LLaMA-Factory's {@code function_call}/{@code observation} turns are {@code UNKNOWN_ROLE}:
 * a {@code function_call} turn's value would have to be turned into an assistant message's
 * {@code tool_calls}, whose exact shape depends on the template, so Millrace does not guess it; send
 * such records as OpenAI {@code messages} with {@code tool_calls} and {@code tool} messages.
 *
 * <p>{@code value} must be a string. Other keys on a message are passed on as with MiniMind messages.
 * The record's {@code system} (a string; empty or null means none, as in LLaMA-Factory) becomes a
 * leading system message; giving a system both there and as a {@code from: system} turn is
 * {@code ROLE_ORDER}. The record's {@code tools} (a list of tool objects or a JSON string of one) become
 * the conversation's tools.
 */
final class ShareGpt {
    private static final Map<String, String> ROLES = Map.of(
            "human", "user", "user", "user",
            "gpt", "assistant", "assistant", "assistant",
            "system", "system",
            "tool", "tool");
    private static final Set<String> MAPPED = Set.of("from", "value");
    static final String FIELD = "conversations";

    private ShareGpt() {
    }

    static Conversation read(JsonNode record) throws RecordRejected {
        JsonNode list = record.get(FIELD);
        if (!list.isArray()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"conversations\" must be a list of {\"from\", \"value\"} messages, found "
                    + PlainJson.typeName(list));
        }
        if (list.isEmpty()) {
            throw new RecordRejected(Reason.EMPTY_CONVERSATION, "\"conversations\" is an empty list");
        }
        List<Map<String, Object>> messages = new ArrayList<>();
        List<String> names = new ArrayList<>();
        String system = RecordFields.optionalSystem(record);
        if (system != null) {
            messages.add(systemMessage(system));
            names.add("system");
        }
        Object lifted = null;
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String where = FIELD + "[" + i + "]";
            if (!m.isObject()) {
                throw new RecordRejected(Reason.WRONG_TYPE, where + " must be an object, found " + PlainJson.typeName(m));
            }
            if (m.has("role") || m.has("content")) {
                throw new RecordRejected(Reason.UNKNOWN_FORMAT, where + " mixes ShareGPT's \"from\"/\"value\" with \"role\"/\"content\"; "
                        + "use one or the other (role/content is the MiniMind format)");
            }
            String role = role(m, where);
            if (role.equals("system") && system != null) {
                throw new RecordRejected(Reason.ROLE_ORDER, where + " is a system message but the record's \"system\" field gives one too; "
                        + "give the system prompt once");
            }
            JsonNode value = m.get("value");
            if (value == null) {
                throw new RecordRejected(Reason.MISSING_FIELD, where + " has no \"value\"");
            }
            if (!value.isTextual()) {
                throw new RecordRejected(Reason.WRONG_TYPE, where + ".value must be a string, found " + PlainJson.typeName(value));
            }
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", role);
            message.put("content", value.asText());
            Object tools = MessageList.addExtras(m, MAPPED, role, message, where);
            if (tools != null) {
                lifted = tools;
            }
            messages.add(message);
            names.add(where);
        }
        Object tools = MessageList.mergeTools(MessageList.tools(record.get("tools"), "tools"), lifted, FIELD);
        RoleRules.check(messages, names, FIELD, true);
        return new Conversation(messages, tools);
    }

    private static String role(JsonNode m, String where) throws RecordRejected {
        JsonNode from = m.get("from");
        if (from == null) {
            throw new RecordRejected(Reason.MISSING_FIELD, where + " has no \"from\"");
        }
        if (!from.isTextual()) {
            throw new RecordRejected(Reason.WRONG_TYPE, where + ".from must be a string, found " + PlainJson.typeName(from));
        }
        String role = ROLES.get(from.asText());
        if (role == null) {
            String why = from.asText().equals("function_call") || from.asText().equals("observation")
                    ? " (LLaMA-Factory tool-use turns are not mapped: send the record as OpenAI \"messages\" with \"tool_calls\" and \"tool\" messages)"
                    : "";
            throw new RecordRejected(Reason.UNKNOWN_ROLE, where + ".from is \"" + from.asText()
                    + "\"; expected human, gpt, system or tool (or user, assistant)" + why);
        }
        return role;
    }

    static Map<String, Object> systemMessage(String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", "system");
        m.put("content", content);
        return m;
    }
}
