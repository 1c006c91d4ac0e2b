package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;

/**
 * Reads an SFT-shaped record (MiniMind or OpenAI) into a validated {@link Conversation}.
 * ShareGPT and Alpaca mappings are not supported yet and are rejected with a message that says so.
 */
public final class ConversationReader {
    private ConversationReader() {
    }

    /**
     * @param forced the format to use, or null to detect it per record
     */
    public static Conversation read(JsonNode record, InputFormat forced) throws RecordRejected {
        if (!record.isObject()) {
            throw new RecordRejected(Reason.UNKNOWN_FORMAT, "the line is a JSON " + record.getNodeType().name().toLowerCase()
                    + ", not an object with the record's fields");
        }
        InputFormat format = forced != null ? forced : InputFormat.detect(record);
        if (!record.has(format.keyField())) {
            throw new RecordRejected(Reason.MISSING_FIELD, "a " + format.id() + " record needs \"" + format.keyField() + "\"");
        }
        return switch (format) {
            case MINIMIND -> MessageList.parse(record.get("conversations"), "conversations", true);
            case OPENAI -> withTools(MessageList.parse(record.get("messages"), "messages", true), record);
            case TEXT, DPO -> throw new RecordRejected(Reason.UNKNOWN_FORMAT,
                    "a " + format.id() + " record is not a conversation; this stage expects conversations");
            case SHAREGPT, ALPACA -> throw new RecordRejected(Reason.UNKNOWN_FORMAT,
                    "the " + format.id() + " format is not supported yet; send {\"conversations\": [...]} or {\"messages\": [...]}");
        };
    }

    private static Conversation withTools(Conversation c, JsonNode record) {
        JsonNode tools = record.get("tools");
        if (tools == null || tools.isNull()) {
            return c;
        }
        return new Conversation(c.messages(), dev.millrace.core.json.PlainJson.toPlain(tools));
    }
}
