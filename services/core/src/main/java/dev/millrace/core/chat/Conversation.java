package dev.millrace.core.chat;

import dev.millrace.core.record.MalformedMessage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A validated conversation in the shape chat templates expect: messages as plain maps
 * ({@code role}, {@code content} and any extra keys, passed to the template unchanged) and the
 * optional {@code tools} list. Values are plain Java (String, Number, Boolean, List, Map, null).
 */
public record Conversation(List<Map<String, Object>> messages, Object tools) implements ParsedRecord {

    /** Deeply immutable: a template can never change the conversation (HF renders copies). */
    public Conversation {
        List<Map<String, Object>> frozen = new ArrayList<>(messages.size());
        for (Map<String, Object> m : messages) {
            @SuppressWarnings("unchecked")
            Map<String, Object> copy = (Map<String, Object>) freeze(m);
            frozen.add(copy);
        }
        messages = Collections.unmodifiableList(frozen);
        tools = freeze(tools);
    }

    /** Unmodifiable deep copy of plain JSON values (null values allowed, unlike Map.copyOf). */
    static Object freeze(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put((String) k, freeze(v)));
            return Collections.unmodifiableMap(copy);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            list.forEach(v -> copy.add(freeze(v)));
            return Collections.unmodifiableList(copy);
        }
        return value;
    }

    public int size() {
        return messages.size();
    }

    public String role(int index) {
        return (String) messages.get(index).get("role");
    }

    public boolean isAssistant(int index) {
        return "assistant".equals(role(index));
    }

    /**
     * Rebuilds a conversation from its normalised record ({@link #normalised()}), as it travels on
     * the raw topic. The record was validated at ingest, so only the shape is checked here.
     *
     * @throws MalformedMessage when it is not of that shape
     */
    @SuppressWarnings("unchecked")
    public static Conversation fromNormalised(Map<String, Object> normalised) {
        Object messages = normalised.get("messages");
        if (!(messages instanceof List<?> list) || !list.stream().allMatch(m -> m instanceof Map)) {
            throw new MalformedMessage("a normalised conversation needs \"messages\": a list of objects");
        }
        return new Conversation((List<Map<String, Object>>) messages, normalised.get("tools"));
    }

    /** The first {@code n} messages, for prefix renders. */
    public Conversation prefix(int n) {
        return new Conversation(messages.subList(0, n), tools);
    }

    /**
     * The normalised record that record ids are computed from: {@code {"messages": [...], "tools": ...}}
     * ({@code tools} only when there are tools). Every SFT input format maps onto it, so one
     * conversation has one id whatever format it came in.
     */
    @Override
    public Map<String, Object> normalised() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("messages", messages);
        if (tools != null) {
            out.put("tools", tools);
        }
        return out;
    }

    /** Every string of message content, including the text of content parts. */
    public List<String> contentTexts() {
        List<String> texts = new ArrayList<>();
        for (Map<String, Object> m : messages) {
            Object content = m.get("content");
            if (content instanceof String s) {
                texts.add(s);
            } else if (content instanceof List<?> parts) {
                for (Object part : parts) {
                    if (part instanceof Map<?, ?> p && p.get("text") instanceof String s) {
                        texts.add(s);
                    }
                }
            }
        }
        return texts;
    }
}
