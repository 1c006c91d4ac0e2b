package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The record shapes Millrace reads, detected per line from the keys present (or forced with
 * {@code --format} / {@code ?format=}). Detection never guesses between two shapes: a line that
 * matches none is {@code UNKNOWN_FORMAT} with the keys it had and the shapes expected, and a line
 * whose keys fit two shapes is {@code UNKNOWN_FORMAT} asking for the format to be given.
 *
 * <p>Detection: {@code conversations} is ShareGPT when no message in it has a {@code role} and at
 * least one has a {@code from}, MiniMind otherwise; {@code messages} is OpenAI; {@code instruction}
 * with {@code output} is Alpaca; {@code chosen} with {@code rejected} is DPO (with or without
 * {@code prompt}); {@code text} is pretrain text. Other keys (an {@code id}, a {@code source}) do not
 * matter.
 */
public enum InputFormat {
    /** {@code {"conversations": [{"role", "content"}, ...]}} */
    MINIMIND("conversations", "{\"conversations\": [{\"role\", \"content\"}, ...]} (MiniMind)"),
    /** {@code {"messages": [...], "tools": [...]}} */
    OPENAI("messages", "{\"messages\": [...], \"tools\"?} (OpenAI)"),
    /** {@code {"conversations": [{"from", "value"}, ...], "system"?, "tools"?}} */
    SHAREGPT("conversations", "{\"conversations\": [{\"from\", \"value\"}, ...], \"system\"?, \"tools\"?} (ShareGPT)"),
    /** {@code {"instruction", "input"?, "output", "system"?, "history"?}} */
    ALPACA("instruction", "{\"instruction\", \"input\"?, \"output\", \"system\"?, \"history\"?} (Alpaca)"),
    /** {@code {"text": "..."}} */
    TEXT("text", "{\"text\": \"...\"} (pretrain text)"),
    /** {@code {"chosen": [...], "rejected": [...]}} or {@code {"prompt", "chosen": "...", "rejected": "..."}} */
    DPO("chosen", "{\"chosen\": [...], \"rejected\": [...]} or {\"prompt\", \"chosen\": \"...\", \"rejected\": \"...\"} (DPO)");

    static final String EXPECTED = "expected one of {\"conversations\": [...]} (MiniMind or ShareGPT), "
            + "{\"messages\": [...]} (OpenAI), {\"instruction\", \"output\"} (Alpaca), {\"text\"} (pretrain), "
            + "{\"chosen\", \"rejected\"} (DPO)";

    private final String keyField;
    private final String shape;

    InputFormat(String keyField, String shape) {
        this.keyField = keyField;
        this.shape = shape;
    }

    /** The field that holds the record's main content (used in error messages). */
    public String keyField() {
        return keyField;
    }

    /** The record shape, as error messages show it, e.g. {@code {"text": "..."} (pretrain text)}. */
    public String shape() {
        return shape;
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

    /** Whether records of this format feed {@code stage}: text for pretrain, DPO for dpo, the four conversation formats for sft and distill. */
    public boolean fits(Stage stage) {
        return switch (stage) {
            case PRETRAIN -> this == TEXT;
            case DPO -> this == DPO;
            case SFT, DISTILL -> this == MINIMIND || this == OPENAI || this == SHAREGPT || this == ALPACA;
        };
    }

    /** The formats that feed {@code stage}, in declaration order. */
    public static List<InputFormat> forStage(Stage stage) {
        return Arrays.stream(values()).filter(f -> f.fits(stage)).toList();
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
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, "no known record shape has the keys " + keys + partialHint(record)
                    + "; " + EXPECTED);
        }
        throw new RecordRejected(Reason.UNKNOWN_FORMAT, "the keys " + keys + " fit several shapes "
                + matches.stream().map(InputFormat::id).toList() + "; pass the format explicitly (--format or ?format=)");
    }

    /** Half of a two-key shape is named, so the fix is obvious. */
    private static String partialHint(JsonNode record) {
        if (record.has("chosen") != record.has("rejected")) {
            return record.has("chosen") ? " (\"chosen\" without \"rejected\")" : " (\"rejected\" without \"chosen\")";
        }
        if (record.has("instruction") != record.has("output")) {
            return record.has("instruction") ? " (\"instruction\" without \"output\")" : " (\"output\" without \"instruction\")";
        }
        return "";
    }

    /** ShareGPT when no message has a role and some message has a {@code from}; an empty or odd list stays MiniMind. */
    private static boolean isShareGpt(JsonNode conversations) {
        if (!conversations.isArray()) {
            return false;
        }
        boolean from = false;
        for (JsonNode m : conversations) {
            if (m.isObject()) {
                if (m.has("role")) {
                    return false;
                }
                from |= m.has("from");
            }
        }
        return from;
    }

    private static String kind(JsonNode node) {
        return node.getNodeType().name().toLowerCase(Locale.ROOT);
    }
}
