package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;

/** Record-level fields shared by several formats. */
final class RecordFields {
    private RecordFields() {
    }

    /**
     * The record's {@code system} field (ShareGPT, Alpaca, DPO): a string, or null when absent, null
     * or empty (an empty system field means "no system prompt", as in LLaMA-Factory; an explicit
     * system message with empty content is different and is kept).
     */
    static String optionalSystem(JsonNode record) throws RecordRejected {
        JsonNode system = record.get("system");
        if (system == null || system.isNull()) {
            return null;
        }
        if (!system.isTextual()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"system\" must be a string, found " + PlainJson.typeName(system));
        }
        return system.asText().isEmpty() ? null : system.asText();
    }

    /** A required string field. */
    static String requiredString(JsonNode record, String field, String what) throws RecordRejected {
        JsonNode value = record.get(field);
        if (value == null) {
            throw new RecordRejected(Reason.MISSING_FIELD, what + " needs \"" + field + "\"");
        }
        if (!value.isTextual()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"" + field + "\" must be a string, found " + PlainJson.typeName(value));
        }
        return value.asText();
    }
}
