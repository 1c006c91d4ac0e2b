package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The single entry point for reading one input record: detects its format (or uses the forced
 * one), checks that the format fits the stage, and reads it into a validated {@link ParsedRecord},
 * returned together with the format it was read as, so callers never parse twice.
 *
 * <p>Stage fit ({@link InputFormat#fits}): pretrain reads text, sft and distill read the four
 * conversation formats (MiniMind, OpenAI, ShareGPT, Alpaca), dpo reads DPO pairs. A record of
 * another shape is {@code UNKNOWN_FORMAT} with a message that says what the stage expects.
 */
public final class RecordReader {
    private RecordReader() {
    }

    /** A record read as {@code format}. */
    public record Result(InputFormat format, ParsedRecord record) {
        public Result {
            Objects.requireNonNull(format, "format");
            Objects.requireNonNull(record, "record");
        }

        /** @throws IllegalStateException when the record is not a conversation (cannot happen for sft/distill) */
        public Conversation asConversation() {
            return as(Conversation.class);
        }

        /** @throws IllegalStateException when the record is not pretrain text (cannot happen for pretrain) */
        public TextRecord asText() {
            return as(TextRecord.class);
        }

        /** @throws IllegalStateException when the record is not a DPO pair (cannot happen for dpo) */
        public DpoPair asDpoPair() {
            return as(DpoPair.class);
        }

        private <T extends ParsedRecord> T as(Class<T> type) {
            if (!type.isInstance(record)) {
                throw new IllegalStateException("the record is a " + record.getClass().getSimpleName() + ", not a " + type.getSimpleName());
            }
            return type.cast(record);
        }
    }

    /**
     * @param record one parsed JSON line
     * @param stage the stage the record is for; decides which formats are accepted
     * @param forced the format to read the record as, or null to detect it per record
     * @throws RecordRejected for every bad record, with the reason and a message naming the field
     */
    public static Result read(JsonNode record, Stage stage, InputFormat forced) throws RecordRejected {
        Objects.requireNonNull(stage, "stage");
        if (!record.isObject()) {
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, "the line is a JSON " + record.getNodeType().name().toLowerCase(java.util.Locale.ROOT)
                    + ", not an object with the record's fields; the " + stage.id() + " stage expects " + expected(stage));
        }
        InputFormat format = forced != null ? forced : InputFormat.detect(record);
        if (!format.fits(stage)) {
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, (forced != null
                    ? "the format " + format.id() + " was given, but"
                    : "the line is " + format.shape() + ", but")
                    + " the " + stage.id() + " stage expects " + expected(stage));
        }
        if (!record.has(format.keyField())) {
            throw new RecordRejected(Reason.MISSING_FIELD, "a " + format.id() + " record needs \"" + format.keyField() + "\"");
        }
        ParsedRecord parsed = switch (format) {
            case MINIMIND -> MessageList.parse(record.get("conversations"), "conversations", true);
            case OPENAI -> openAi(record);
            case SHAREGPT -> ShareGpt.read(record);
            case ALPACA -> Alpaca.read(record);
            case TEXT -> TextRecord.read(record);
            case DPO -> Dpo.read(record);
        };
        return new Result(format, parsed);
    }

    /** The shapes a stage accepts, for error messages. */
    static String expected(Stage stage) {
        return InputFormat.forStage(stage).stream().map(InputFormat::shape).collect(Collectors.joining(" or "));
    }

    /** OpenAI {@code messages}; the record's {@code tools} (or MiniMind-style tools on the system message) are the tools. */
    private static Conversation openAi(JsonNode record) throws RecordRejected {
        MessageList.Read read = MessageList.read(record.get("messages"), "messages");
        Object tools = MessageList.mergeTools(MessageList.tools(record.get("tools"), "tools"), read.tools(), "messages");
        RoleRules.check(read.messages(), read.names(), "messages", true);
        return new Conversation(read.messages(), tools);
    }
}
