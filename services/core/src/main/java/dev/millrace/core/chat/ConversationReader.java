package dev.millrace.core.chat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;

/**
 * Reads an SFT-shaped record (MiniMind, OpenAI, ShareGPT or Alpaca) into a validated
 * {@link Conversation}. Kept for existing callers; it is {@link RecordReader#read} for the sft
 * stage, which also returns the detected format.
 */
public final class ConversationReader {
    private ConversationReader() {
    }

    /**
     * @param forced the format to use, or null to detect it per record
     * @throws RecordRejected also {@code UNKNOWN_FORMAT} for pretrain text and DPO pairs, which are not conversations
     */
    public static Conversation read(JsonNode record, InputFormat forced) throws RecordRejected {
        return RecordReader.read(record, Stage.SFT, forced).asConversation();
    }
}
