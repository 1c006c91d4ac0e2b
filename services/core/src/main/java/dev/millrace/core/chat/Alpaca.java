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
 * Reads an Alpaca record, {@code {"instruction", "input"?, "output", "system"?, "history"?}}, into
 * a {@link Conversation}, as LLaMA-Factory's Alpaca converter does:
 * <ol>
 * <li>{@code system} (a string; empty or null means none) → a system message;</li>
 * <li>{@code history}, a list of {@code [instruction, output]} string pairs → a user and an
 * assistant message per pair, in order;</li>
 * <li>user = the non-empty ones of {@code instruction} and {@code input} joined with one
 * {@code "\n"} (so {@code instruction + "\n" + input}, or just the instruction when the input is
 * empty, null or absent); nothing is trimmed;</li>
 * <li>assistant = {@code output}.</li>
 * </ol>
 * {@code instruction} and {@code output} are required strings; {@code input} is an optional string.
 */
final class Alpaca {
    private static final String WHAT = "an Alpaca record";

    private Alpaca() {
    }

    static Conversation read(JsonNode record) throws RecordRejected {
        String instruction = RecordFields.requiredString(record, "instruction", WHAT);
        String output = RecordFields.requiredString(record, "output", WHAT);
        String input = optionalInput(record);
        String system = RecordFields.optionalSystem(record);

        List<Map<String, Object>> messages = new ArrayList<>();
        List<String> names = new ArrayList<>();
        if (system != null) {
            add(messages, names, "system", system, "system");
        }
        JsonNode history = record.get("history");
        if (history != null && !history.isNull()) {
            if (!history.isArray()) {
                throw new RecordRejected(Reason.WRONG_TYPE, "\"history\" must be a list of [instruction, output] pairs, found "
                        + PlainJson.typeName(history));
            }
            for (int i = 0; i < history.size(); i++) {
                JsonNode pair = history.get(i);
                String where = "history[" + i + "]";
                if (!pair.isArray() || pair.size() != 2) {
                    throw new RecordRejected(Reason.WRONG_TYPE, where + " must be a pair [instruction, output], found "
                            + (pair.isArray() ? "a list of " + pair.size() : PlainJson.typeName(pair)));
                }
                for (int k = 0; k < 2; k++) {
                    if (!pair.get(k).isTextual()) {
                        throw new RecordRejected(Reason.WRONG_TYPE, where + "[" + k + "] must be a string, found " + PlainJson.typeName(pair.get(k)));
                    }
                }
                add(messages, names, "user", pair.get(0).asText(), where + "[0]");
                add(messages, names, "assistant", pair.get(1).asText(), where + "[1]");
            }
        }
        add(messages, names, "user", userContent(instruction, input), input.isEmpty() ? "instruction" : "instruction+input");
        add(messages, names, "assistant", output, "output");
        RoleRules.check(messages, names, "output", true);
        return new Conversation(messages, null);
    }

    /** LLaMA-Factory's rule: {@code "\n".join} of the non-empty ones of instruction and input. */
    static String userContent(String instruction, String input) {
        if (input.isEmpty()) {
            return instruction;
        }
        if (instruction.isEmpty()) {
            return input;
        }
        return instruction + "\n" + input;
    }

    private static String optionalInput(JsonNode record) throws RecordRejected {
        JsonNode input = record.get("input");
        if (input == null || input.isNull()) {
            return "";
        }
        if (!input.isTextual()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"input\" must be a string, found " + PlainJson.typeName(input));
        }
        return input.asText();
    }

    private static void add(List<Map<String, Object>> messages, List<String> names, String role, String content, String name) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        messages.add(m);
        names.add(name);
    }
}
