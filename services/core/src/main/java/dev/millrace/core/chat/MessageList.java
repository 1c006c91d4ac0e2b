package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a JSON list of {@code {"role", "content", ...}} messages (MiniMind {@code conversations},
 * OpenAI {@code messages}) into a validated {@link Conversation}: field presence and types, the
 * seed's positional roles when no message has a role, MiniMind's tool-use fields, then
 * {@link RoleRules}. Content is never coerced: a number is {@code WRONG_TYPE}, not a string.
 */
public final class MessageList {
    private MessageList() {
    }

    public static Conversation parse(JsonNode list, String field, boolean requireAssistant) throws RecordRejected {
        if (!list.isArray()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"" + field + "\" must be a list of messages, found " + PlainJson.typeName(list));
        }
        if (list.isEmpty()) {
            throw new RecordRejected(Reason.EMPTY_CONVERSATION, "\"" + field + "\" is an empty list");
        }
        int withRole = 0;
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            if (!m.isObject()) {
                throw new RecordRejected(Reason.WRONG_TYPE, field + "[" + i + "] must be an object, found " + PlainJson.typeName(m));
            }
            if (m.has("role")) {
                withRole++;
            }
        }
        boolean positional = withRole == 0; // the seed's rule: even index user, odd assistant
        if (!positional && withRole < list.size()) {
            for (int i = 0; i < list.size(); i++) {
                if (!list.get(i).has("role")) {
                    throw new RecordRejected(Reason.MISSING_FIELD, field + "[" + i + "] has no \"role\" while other messages have one");
                }
            }
        }
        List<Map<String, Object>> messages = new ArrayList<>(list.size());
        Object tools = null;
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String where = field + "[" + i + "]";
            Map<String, Object> message = new LinkedHashMap<>();
            String role;
            if (positional) {
                role = i % 2 == 0 ? "user" : "assistant";
            } else {
                JsonNode r = m.get("role");
                if (!r.isTextual()) {
                    throw new RecordRejected(Reason.WRONG_TYPE, where + ".role must be a string, found " + PlainJson.typeName(r));
                }
                role = r.asText();
            }
            message.put("role", role);
            message.put("content", content(m, where));
            for (Map.Entry<String, JsonNode> e : m.properties()) {
                if (!e.getKey().equals("role") && !e.getKey().equals("content")) {
                    message.put(e.getKey(), PlainJson.toPlain(e.getValue()));
                }
            }
            // MiniMind tool use: tools as a JSON string on the system message, tool_calls as a JSON string.
            // As MiniMind (and hf_render) do: an empty tools value means no tools.
            if ("system".equals(role) && isPresent(m.get("tools"))) {
                tools = parseEmbeddedJson(m.get("tools"), where + ".tools");
            }
            if (isPresent(m.get("tool_calls")) && m.get("tool_calls").isTextual()) {
                message.put("tool_calls", parseEmbeddedJson(m.get("tool_calls"), where + ".tool_calls"));
            }
            messages.add(message);
        }
        RoleRules.check(messages, field, requireAssistant);
        return new Conversation(messages, tools);
    }

    private static Object content(JsonNode m, String where) throws RecordRejected {
        if (!m.has("content")) {
            throw new RecordRejected(Reason.MISSING_FIELD, where + " has no \"content\"");
        }
        JsonNode c = m.get("content");
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isArray()) { // a list of {"type": "text", ...} parts goes to the template as it is, as HF does
            for (int k = 0; k < c.size(); k++) {
                if (!c.get(k).isObject()) {
                    throw new RecordRejected(Reason.WRONG_TYPE, where + ".content[" + k + "] must be an object part, found " + PlainJson.typeName(c.get(k)));
                }
            }
            return PlainJson.toPlain(c);
        }
        throw new RecordRejected(Reason.WRONG_TYPE, where + ".content must be a string or a list of parts, found " + PlainJson.typeName(c));
    }

    /** Python truthiness of a JSON value: null, "", [] and {} are absent. */
    private static boolean isPresent(JsonNode value) {
        if (value == null || value.isNull()) {
            return false;
        }
        if (value.isTextual()) {
            return !value.asText().isEmpty();
        }
        return !value.isContainerNode() || !value.isEmpty();
    }

    private static Object parseEmbeddedJson(JsonNode value, String where) throws RecordRejected {
        if (!value.isTextual()) {
            return PlainJson.toPlain(value);
        }
        try {
            return PlainJson.toPlain(StrictJson.parse(value.asText()));
        } catch (RecordRejected e) {
            throw new RecordRejected(Reason.INVALID_JSON, where + " is a string but not valid JSON: " + e.getMessage());
        }
    }
}
