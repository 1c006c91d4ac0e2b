package dev.millrace.core.chat;

import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The role rules of SEMANTICS.md (SFT rule 1), applied after every input format has been mapped
 * onto role/content messages. The first failing rule decides the reason.
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
        if (messages.isEmpty()) {
            throw new RecordRejected(Reason.EMPTY_CONVERSATION, "\"" + field + "\" is an empty list");
        }
        for (int i = 0; i < messages.size(); i++) {
            Object value = messages.get(i).get("role");
            if (!(value instanceof String role)) {
                throw value == null
                        ? new RecordRejected(Reason.MISSING_FIELD, field + "[" + i + "] has no \"role\"")
                        : new RecordRejected(Reason.WRONG_TYPE, field + "[" + i + "].role must be a string");
            }
            if (!ROLES.contains(role)) {
                throw new RecordRejected(Reason.UNKNOWN_ROLE, field + "[" + i + "].role is \"" + role
                        + "\"; expected system, user, assistant or tool");
            }
        }
        int first = "system".equals(messages.get(0).get("role")) ? 1 : 0;
        String previous = null;
        for (int i = first; i < messages.size(); i++) {
            String role = (String) messages.get(i).get("role");
            String where = field + "[" + i + "]";
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
            throw new RecordRejected(Reason.NO_TRAINABLE_TOKENS, "\"" + field + "\" has no assistant message, so nothing would be trained");
        }
    }
}
