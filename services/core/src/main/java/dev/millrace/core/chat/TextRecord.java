package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.PlainJson;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** A pretrain record, {@code {"text": "..."}}. The text is kept exactly as given (wrapping is prepare's job). */
public record TextRecord(String text) implements ParsedRecord {

    public TextRecord {
        Objects.requireNonNull(text, "text");
    }

    /** Reads {@code {"text": "..."}}; other keys of the record are ignored. */
    public static TextRecord read(JsonNode record) throws RecordRejected {
        JsonNode text = record.get("text");
        if (text == null) {
            throw new RecordRejected(Reason.MISSING_FIELD, "a pretrain text record needs \"text\"");
        }
        if (!text.isTextual()) {
            throw new RecordRejected(Reason.WRONG_TYPE, "\"text\" must be a string, found " + PlainJson.typeName(text));
        }
        return new TextRecord(text.asText());
    }

    /** Rebuilds a text record from its normalised form ({@link #normalised()}); {@link MalformedMessage} when it is not of that shape. */
    public static TextRecord fromNormalised(Map<String, Object> normalised) {
        if (!(normalised.get("text") instanceof String text)) {
            throw new MalformedMessage("a normalised text record needs \"text\": a string");
        }
        return new TextRecord(text);
    }

    /** {@code {"text": ...}} */
    @Override
    public Map<String, Object> normalised() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("text", text);
        return out;
    }
}
