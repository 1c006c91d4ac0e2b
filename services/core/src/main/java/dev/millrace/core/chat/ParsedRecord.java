package dev.millrace.core.chat;

import java.util.Map;

/**
 * One validated input record, whatever format it came in: a {@link Conversation} (sft, distill),
 * a {@link TextRecord} (pretrain) or a {@link DpoPair} (dpo). Read with {@link RecordReader}.
 */
public sealed interface ParsedRecord permits Conversation, TextRecord, DpoPair {

    /**
     * The normalised record (plain maps, lists, strings, numbers, booleans, nulls) that record ids
     * are computed from and that travels on the raw topic; the same for every input format.
     */
    Map<String, Object> normalised();
}
