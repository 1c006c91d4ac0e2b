package dev.millrace.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;

/**
 * Tells a distillation prompt (docs/semantics.md#distillation: a conversation that ends in a user turn and has no
 * assistant message, for the teacher to answer) from a bad record. Core reads distill records with
 * the SFT rules, which reject a conversation without an assistant message as
 * {@code NO_TRAINABLE_TOKENS}; that check is the last of the role rules, so such a record passed all
 * the others. To read it with core's own rules (fields, types, roles, extra keys, tools), this class
 * appends an empty assistant reply in the record's own format, reads that with core, and takes the
 * messages before the reply. Core has no prompt reader yet; when it gets one, this class should go.
 *
 * <p>Prompts can come as MiniMind, OpenAI or ShareGPT records; an Alpaca record always has an
 * {@code output}, so it is never a prompt.
 */
final class DistillPrompts {
    private DistillPrompts() {
    }

    /**
     * @param record a record that core rejected with {@code NO_TRAINABLE_TOKENS} for the distill stage
     * @param forced the format given with the request, or null
     * @return the prompt, or null when the record is not one
     */
    static Conversation prompt(JsonNode record, InputFormat forced) {
        try {
            InputFormat format = forced != null ? forced : InputFormat.detect(record);
            JsonNode answered = withEmptyReply(record, format);
            if (answered == null) {
                return null;
            }
            Conversation full = RecordReader.read(answered, Stage.DISTILL, format).asConversation();
            if (full.size() < 2 || !full.isAssistant(full.size() - 1)) {
                return null;
            }
            Conversation prompt = full.prefix(full.size() - 1);
            return "user".equals(prompt.role(prompt.size() - 1)) ? prompt : null;
        } catch (RecordRejected e) {
            return null; // not a prompt either: the caller reports core's first reason
        }
    }

    /** A copy of the record with an empty assistant message appended in its format's shape; null for Alpaca. */
    private static JsonNode withEmptyReply(JsonNode record, InputFormat format) {
        String field = switch (format) {
            case MINIMIND, SHAREGPT -> "conversations";
            case OPENAI -> "messages";
            default -> null;
        };
        if (field == null || !(record.get(field) instanceof ArrayNode list)) {
            return null;
        }
        ObjectNode copy = record.deepCopy();
        ArrayNode messages = (ArrayNode) copy.get(field);
        ObjectNode reply = messages.addObject();
        if (format == InputFormat.SHAREGPT) {
            reply.put("from", "gpt").put("value", "");
        } else {
            // MiniMind records without any role take roles by position (the reply then lands on an odd index).
            boolean positional = true;
            for (JsonNode m : list) {
                positional &= !m.has("role");
            }
            if (!positional) {
                reply.put("role", "assistant");
            }
            reply.put("content", "");
        }
        return copy;
    }
}
