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
import java.util.Objects;
import java.util.Set;

/**
 * Turns a JSON list of {@code {"role", "content", ...}} messages (MiniMind {@code conversations},
 * OpenAI {@code messages}, a DPO side) into a validated {@link Conversation}: field presence and
 * types, the seed's positional roles when no message has a role, MiniMind's tool-use fields, then
 * {@link RoleRules}. Content is never coerced: a number is {@code WRONG_TYPE}, not a string.
 *
 * <p>MiniMind tool use (as its {@code SFTDataset.create_chat_prompt} and the test reference renderer's
 * {@code record_messages} do): a non-empty {@code tools} value on a system message (a JSON
 * string or a list) becomes the conversation's tools, and a {@code tool_calls} JSON string is
 * parsed. The {@code tools} key is then removed from the system message: templates receive tools
 * separately (neither MiniMind's template nor HF's ChatML-style templates read
 * {@code message.tools}), and keeping the raw string would give the same conversation a different
 * record id than the same one sent as OpenAI {@code messages} + {@code tools}.
 */
public final class MessageList {
    private MessageList() {
    }

    /** Validated messages before the role rules: where each came from, and the tools lifted from a system message. */
    record Read(List<Map<String, Object>> messages, List<String> names, Object tools) {
    }

    public static Conversation parse(JsonNode list, String field, boolean requireAssistant) throws RecordRejected {
        Read read = read(list, field);
        RoleRules.check(read.messages(), read.names(), field, requireAssistant);
        return new Conversation(read.messages(), read.tools());
    }

    /** Everything {@link #parse} checks except the role rules, for callers that add messages around the list. */
    static Read read(JsonNode list, String field) throws RecordRejected {
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
        List<String> names = new ArrayList<>(list.size());
        Object tools = null;
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String where = field + "[" + i + "]";
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
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", role);
            message.put("content", content(m, where));
            Object lifted = addExtras(m, Set.of("role", "content"), role, message, where);
            checkNullContent(message, where);
            if (lifted != null) {
                tools = lifted;
            }
            messages.add(message);
            names.add(where);
        }
        return new Read(messages, names, tools);
    }

    /**
     * Copies a message's keys other than {@code mapped} into {@code message} unchanged, except
     * MiniMind's tool-use fields: a {@code tool_calls} JSON string is parsed, and a system message's
     * {@code tools} is removed from the message and returned (null when absent or empty).
     */
    static Object addExtras(JsonNode m, Set<String> mapped, String role, Map<String, Object> message, String where)
            throws RecordRejected {
        Object tools = null;
        for (Map.Entry<String, JsonNode> e : m.properties()) {
            String key = e.getKey();
            if (mapped.contains(key)) {
                continue;
            }
            JsonNode value = e.getValue();
            if (key.equals("tools") && "system".equals(role)) {
                // As MiniMind (and the test reference renderer) do: an empty tools value ("", [], null) means no tools.
                if (isPresent(value)) {
                    tools = tools(value, where + ".tools");
                }
            } else if (key.equals("tool_calls") && isPresent(value) && value.isTextual()) {
                message.put(key, parseEmbeddedJson(value, where + ".tool_calls"));
            } else {
                message.put(key, PlainJson.toPlain(value));
            }
        }
        return tools;
    }

    /**
     * A message's content: a string, a list of parts, or null, which {@link #checkNullContent} then
     * allows only on an assistant message with tool calls.
     */
    static Object content(JsonNode m, String where) throws RecordRejected {
        if (!m.has("content")) {
            throw new RecordRejected(Reason.MISSING_FIELD, where + " has no \"content\"");
        }
        JsonNode c = m.get("content");
        if (c.isTextual()) {
            return c.asText();
        }
        if (c.isNull()) {
            return null;
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

    /**
     * Null content is how OpenAI exports an assistant message that only calls tools
     * ({@code "content": null} with {@code tool_calls}), so it is kept there, as null, for the template
     * to see what Hugging Face's {@code apply_chat_template} would (docs/decisions.md, "Null content on
     * a tool-calling turn"). Anywhere else it is {@code WRONG_TYPE}: values are never coerced.
     *
     * @param message the mapped message, with its role and its {@code tool_calls} already parsed
     */
    static void checkNullContent(Map<String, Object> message, String where) throws RecordRejected {
        if (message.get("content") != null) {
            return;
        }
        boolean callsTools = message.get("tool_calls") instanceof List<?> calls && !calls.isEmpty();
        if (!"assistant".equals(message.get("role")) || !callsTools) {
            throw new RecordRejected(Reason.WRONG_TYPE, where + ".content must be a string or a list of parts, found null"
                    + " (null is allowed only on an assistant message with a non-empty \"tool_calls\" list)");
        }
    }

    /**
     * A tools value: a list of tool objects, or a JSON string holding one (MiniMind, LLaMA-Factory's
     * ShareGPT). Null or absent is no tools (null); an empty string too. HF's apply_chat_template
     * accepts only a list of objects, so anything else is {@code WRONG_TYPE}.
     */
    static Object tools(JsonNode value, String where) throws RecordRejected {
        if (value == null || value.isNull() || (value.isTextual() && value.asText().isEmpty())) {
            return null;
        }
        JsonNode list = value;
        if (value.isTextual()) {
            try {
                list = StrictJson.parse(value.asText());
            } catch (RecordRejected e) {
                throw new RecordRejected(Reason.INVALID_JSON, where + " is a string but not valid JSON: " + e.getMessage());
            }
        }
        if (!list.isArray()) {
            throw new RecordRejected(Reason.WRONG_TYPE, where + " must be a list of tool objects (or a JSON string of one), found "
                    + (value.isTextual() ? "a string holding " : "") + PlainJson.typeName(list));
        }
        for (int k = 0; k < list.size(); k++) {
            if (!list.get(k).isObject()) {
                throw new RecordRejected(Reason.WRONG_TYPE, where + "[" + k + "] must be a tool object, found " + PlainJson.typeName(list.get(k)));
            }
        }
        return PlainJson.toPlain(list);
    }

    /**
     * The conversation's tools when they may come from two places (the record's {@code tools} and
     * a system message's): either one, or both when they are equal; two different ones are ambiguous.
     */
    static Object mergeTools(Object recordTools, Object liftedTools, String where) throws RecordRejected {
        if (recordTools == null) {
            return liftedTools;
        }
        if (liftedTools != null && !Objects.equals(recordTools, liftedTools)) {
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, "tools are given both as the record's \"tools\" and on the system message "
                    + where + ", and they differ; give them once");
        }
        return recordTools;
    }

    /** Python truthiness of a JSON value: null, "", [] and {} are absent. */
    static boolean isPresent(JsonNode value) {
        if (value == null || value.isNull()) {
            return false;
        }
        if (value.isTextual()) {
            return !value.asText().isEmpty();
        }
        return !value.isContainerNode() || !value.isEmpty();
    }

    private static Object parseEmbeddedJson(JsonNode value, String where) throws RecordRejected {
        try {
            return PlainJson.toPlain(StrictJson.parse(value.asText()));
        } catch (RecordRejected e) {
            throw new RecordRejected(Reason.INVALID_JSON, where + " is a string but not valid JSON: " + e.getMessage());
        }
    }
}
