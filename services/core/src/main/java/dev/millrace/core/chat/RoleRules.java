package dev.millrace.core.chat;

import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The role rules of SFT rule 1 (docs/semantics.md#sft-rule-1-reading-the-conversation), applied
 * after every input format has been mapped onto role/content messages. The first failing rule
 * decides the reason.
 */
public final class RoleRules {
    public static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");

    private RoleRules() {
    }

    /**
     * @param field the input field the messages came from, used in messages ("conversations")
     * @param requireAssistant false for prompt-only records (distillation prompts)
     */
    public static void check(List<Map<String, Object>> messages, String field, boolean requireAssistant)
            throws RecordRejected {
        List<String> names = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
            names.add(field + "[" + i + "]");
        }
        check(messages, names, field, requireAssistant);
    }

    /**
     * The same rules, for messages mapped from fields that are not one list (ShareGPT's record-level
     * {@code system}, Alpaca's {@code history}/{@code instruction}/{@code output}, a DPO prompt).
     *
     * @param names where each message came from in the input, used in messages ("history[0][1]")
     * @param what the record part the messages make up, used in messages about the whole list ("chosen")
     */
    public static void check(List<Map<String, Object>> messages, List<String> names, String what, boolean requireAssistant)
            throws RecordRejected {
        if (names.size() != messages.size()) {
            throw new IllegalArgumentException("one name per message: " + names.size() + " names, " + messages.size() + " messages");
        }
        if (messages.isEmpty()) {
            throw new RecordRejected(Reason.EMPTY_CONVERSATION, "\"" + what + "\" is an empty list");
        }
        for (int i = 0; i < messages.size(); i++) {
            Object value = messages.get(i).get("role");
            if (!(value instanceof String role)) {
                throw value == null
                        ? new RecordRejected(Reason.MISSING_FIELD, names.get(i) + " has no \"role\"")
                        : new RecordRejected(Reason.WRONG_TYPE, names.get(i) + ".role must be a string");
            }
            if (!ROLES.contains(role)) {
                throw new RecordRejected(Reason.UNKNOWN_ROLE, names.get(i) + ".role is \"" + role
                        + "\"; expected system, user, assistant or tool");
            }
        }
        int first = "system".equals(messages.get(0).get("role")) ? 1 : 0;
        String previous = null;
        for (int i = first; i < messages.size(); i++) {
            String role = (String) messages.get(i).get("role");
            String where = names.get(i);
            if (role.equals("system")) {
                throw new RecordRejected(Reason.ROLE_ORDER, where + " is a system message; system is allowed only first");
            }
            if (previous == null && !role.equals("user")) {
                throw new RecordRejected(Reason.ROLE_ORDER, where + " is " + role
                        + "; the conversation must start with a user message (after an optional system message)");
            }
            if (role.equals(previous) && !role.equals("tool")) {
                throw new RecordRejected(Reason.ROLE_ORDER, where + " is a second " + role + " message in a row");
            }
            if (role.equals("tool") && !"assistant".equals(previous) && !"tool".equals(previous)) {
                throw new RecordRejected(Reason.ROLE_ORDER, where + " is a tool message that does not follow an assistant message");
            }
            previous = role;
        }
        if (requireAssistant && messages.stream().noneMatch(m -> "assistant".equals(m.get("role")))) {
            throw new RecordRejected(Reason.NO_TRAINABLE_TOKENS, "\"" + what + "\" has no assistant message, so nothing would be trained");
        }
    }
}
