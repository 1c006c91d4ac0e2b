package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The record shapes Millrace reads, detected per line from the keys present (or forced with
 * {@code --format} / {@code ?format=}). Detection never guesses between two shapes: a line that
 * matches none is {@code UNKNOWN_FORMAT} with the keys it had and the shapes expected.
 */
public enum InputFormat {
    /** {@code {"conversations": [{"role", "content"}, ...]}} */
    MINIMIND("conversations"),
    /** {@code {"messages": [...], "tools": [...]}} */
    OPENAI("messages"),
    /** {@code {"conversations": [{"from", "value"}, ...]}} */
    SHAREGPT("conversations"),
    /** {@code {"instruction", "input", "output"}} */
    ALPACA("instruction"),
    /** {@code {"text": "..."}} */
    TEXT("text"),
    /** {@code {"chosen": ..., "rejected": ...}} */
    DPO("chosen");

    static final String EXPECTED = "expected one of {\"conversations\": [...]} (MiniMind or ShareGPT), "
            + "{\"messages\": [...]} (OpenAI), {\"instruction\", \"output\"} (Alpaca), {\"text\"} (pretrain), "
            + "{\"chosen\", \"rejected\"} (DPO)";

    private final String keyField;

    InputFormat(String keyField) {
        this.keyField = keyField;
    }

    /** The field that holds the record's main content (used in error messages). */
    public String keyField() {
        return keyField;
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static InputFormat fromId(String id) {
        for (InputFormat f : values()) {
            if (f.id().equals(id)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown format '" + id + "'");
    }

    /** Detects the shape of one record. */
    public static InputFormat detect(JsonNode record) throws RecordRejected {
        if (!record.isObject()) {
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, "the line is a JSON " + kind(record) + ", not an object; " + EXPECTED);
        }
        List<InputFormat> matches = new ArrayList<>();
        if (record.has("conversations")) {
            matches.add(isShareGpt(record.get("conversations")) ? SHAREGPT : MINIMIND);
        }
        if (record.has("messages")) {
            matches.add(OPENAI);
        }
        if (record.has("instruction") && record.has("output")) {
            matches.add(ALPACA);
        }
        if (record.has("chosen") && record.has("rejected")) {
            matches.add(DPO);
        }
        if (record.has("text")) {
            matches.add(TEXT);
        }
        if (matches.size() == 1) {
            return matches.get(0);
        }
        List<String> keys = new ArrayList<>();
        record.fieldNames().forEachRemaining(keys::add);
        if (matches.isEmpty()) {
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, "no known record shape has the keys " + keys + "; " + EXPECTED);
        }
        throw new RecordRejected(Reason.UNKNOWN_FORMAT, "the keys " + keys + " fit several shapes "
                + matches.stream().map(InputFormat::id).toList() + "; pass the format explicitly");
    }

    private static boolean isShareGpt(JsonNode conversations) {
        if (!conversations.isArray() || conversations.isEmpty()) {
            return false;
        }
        JsonNode first = conversations.get(0);
        return first.isObject() && first.has("from") && first.has("value") && !first.has("role");
    }

    private static String kind(JsonNode node) {
        return node.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
