package dev.millrace.core.chat;

import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A DPO pair (docs/semantics.md#dpo): two conversations that share their prompt, every message before
 * the last assistant message (and the tools), and each have an assistant message. Build one with
 * {@link #of}, which rejects a pair that breaks the rule; the constructor enforces the same rule
 * with an {@link IllegalArgumentException}.
 */
public record DpoPair(Conversation chosen, Conversation rejected) implements ParsedRecord {

    public DpoPair {
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
        RecordRejected problem = problem(chosen, rejected, names("chosen", chosen), names("rejected", rejected));
        if (problem != null) {
            throw new IllegalArgumentException(problem.getMessage());
        }
    }

    /**
     * @throws RecordRejected {@code NO_TRAINABLE_TOKENS} when a side has no assistant message,
     *     {@code DPO_PROMPT_MISMATCH} when the prompts differ (the message says where)
     */
    public static DpoPair of(Conversation chosen, Conversation rejected) throws RecordRejected {
        return of(chosen, rejected, names("chosen", chosen), names("rejected", rejected));
    }

    /** As {@link #of(Conversation, Conversation)}, naming each message by where it came from in the input. */
    static DpoPair of(Conversation chosen, Conversation rejected, List<String> chosenNames, List<String> rejectedNames)
            throws RecordRejected {
        RecordRejected problem = problem(chosen, rejected, chosenNames, rejectedNames);
        if (problem != null) {
            throw problem;
        }
        return new DpoPair(chosen, rejected);
    }

    /** The shared prompt: the messages before the last assistant message (the same on both sides). */
    public List<Map<String, Object>> prompt() {
        return chosen.messages().subList(0, lastAssistant(chosen));
    }

    /** Index of the last assistant message, or -1 when there is none. */
    public static int lastAssistant(Conversation c) {
        for (int i = c.size() - 1; i >= 0; i--) {
            if (c.isAssistant(i)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code {"chosen": {"messages": [...], "tools"?}, "rejected": {...}}}: each side normalised as a conversation. */
    @Override
    public Map<String, Object> normalised() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("chosen", chosen.normalised());
        out.put("rejected", rejected.normalised());
        return out;
    }

    /** Rebuilds a pair from its normalised form ({@link #normalised()}); {@link MalformedMessage} when it is not of that shape or breaks the pair rule. */
    @SuppressWarnings("unchecked")
    public static DpoPair fromNormalised(Map<String, Object> normalised) {
        if (!(normalised.get("chosen") instanceof Map<?, ?> c) || !(normalised.get("rejected") instanceof Map<?, ?> r)) {
            throw new MalformedMessage("a normalised DPO pair needs \"chosen\" and \"rejected\": objects");
        }
        try {
            return of(Conversation.fromNormalised((Map<String, Object>) c), Conversation.fromNormalised((Map<String, Object>) r));
        } catch (RecordRejected e) {
            throw new MalformedMessage("a normalised DPO pair breaks the pair rule: " + e.getMessage());
        }
    }

    private static List<String> names(String field, Conversation c) {
        List<String> names = new ArrayList<>(c.size());
        for (int i = 0; i < c.size(); i++) {
            names.add(field + "[" + i + "]");
        }
        return names;
    }

    private static RecordRejected problem(Conversation chosen, Conversation rejected, List<String> chosenNames, List<String> rejectedNames) {
        int c = lastAssistant(chosen);
        int r = lastAssistant(rejected);
        if (c < 0 || r < 0) {
            return new RecordRejected(Reason.NO_TRAINABLE_TOKENS, "\"" + (c < 0 ? "chosen" : "rejected")
                    + "\" has no assistant message, so nothing would be trained");
        }
        for (int i = 0; i < Math.min(c, r); i++) {
            Map<String, Object> a = chosen.messages().get(i);
            Map<String, Object> b = rejected.messages().get(i);
            if (!a.equals(b)) {
                return new RecordRejected(Reason.DPO_PROMPT_MISMATCH, "the prompts differ: " + chosenNames.get(i) + " and "
                        + rejectedNames.get(i) + " differ in " + difference(a, b)
                        + "; every message before the last assistant message must be identical on both sides");
            }
        }
        if (c != r) {
            return new RecordRejected(Reason.DPO_PROMPT_MISMATCH, "the prompts differ: chosen has " + c
                    + " message(s) before its last assistant message (" + chosenNames.get(c) + "), rejected has " + r
                    + " (" + rejectedNames.get(r) + "); every message before the last assistant message must be identical on both sides");
        }
        if (!Objects.equals(chosen.tools(), rejected.tools())) {
            return new RecordRejected(Reason.DPO_PROMPT_MISMATCH, "the prompts differ: chosen and rejected have different tools "
                    + "(the tools are part of the prompt)");
        }
        return null;
    }

    /** The first key whose values differ, with both values shortened: {@code "content": "a" vs "b"}. */
    private static String difference(Map<String, Object> a, Map<String, Object> b) {
        Set<String> keys = new LinkedHashSet<>(a.keySet());
        keys.addAll(b.keySet());
        for (String key : keys) {
            if (!Objects.equals(a.get(key), b.get(key)) || a.containsKey(key) != b.containsKey(key)) {
                return "\"" + key + "\": " + show(a, key) + " vs " + show(b, key);
            }
        }
        return "their keys";
    }

    private static String show(Map<String, Object> m, String key) {
        if (!m.containsKey(key)) {
            return "(absent)";
        }
        String json = RecordId.canonicalJson(m.get(key));
        return json.length() <= 80 ? json : json.substring(0, 77) + "...";
    }
}
