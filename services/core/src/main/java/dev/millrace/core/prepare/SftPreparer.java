package dev.millrace.core.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.ConversationReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.mask.PatternMaskRule;
import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Warning;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.util.ArrayList;
import java.util.List;

/**
 * The whole SFT path for one record, from raw bytes to a row (SEMANTICS.md, SFT rules 1-7):
 * parse, read the conversation and check roles, render the chat template, encode, mask with the
 * pattern rule, truncate and pad to T. Each step is a public method so the Kafka services can run
 * them one per topic; {@code ./millrace prepare} runs them in a row.
 */
public final class SftPreparer {
    private final TokenizerFolder folder;
    private final SftOptions options;
    private final ChatTemplate template;
    private final PatternMaskRule patternRule;

    public SftPreparer(TokenizerFolder folder, SftOptions options) {
        if (!folder.isChatMl()) {
            throw new IllegalArgumentException("the pattern mask rule needs <|im_start|> and <|im_end|> in the vocabulary; "
                    + "the span rule for other templates is not supported yet");
        }
        this.folder = folder;
        this.options = options;
        this.template = new ChatTemplate(folder.config());
        this.patternRule = PatternMaskRule.chatMl(folder.tokenizer());
    }

    public SftOptions options() {
        return options;
    }

    /** Never throws for bad data: a bad line comes back as {@link Prepared.Rejected}. */
    public Prepared prepare(RawLine line) {
        try {
            Conversation conversation = read(line.bytes());
            Rendered rendered = template(conversation);
            Masked masked = mask(tokenize(rendered.text()));
            List<Warning> warnings = new ArrayList<>(rendered.warnings());
            warnings.addAll(masked.warnings());
            return new Prepared.Example(line.number(), recordId(conversation), rendered.text(), masked.row(), warnings);
        } catch (RecordRejected e) {
            return new Prepared.Rejected(line.number(), e.reason(), e.getMessage());
        }
    }

    /** Step 1 (ingest): bytes to a validated conversation. */
    public Conversation read(byte[] bytes) throws RecordRejected {
        JsonNode record = StrictJson.parse(bytes);
        return ConversationReader.read(record, options.format());
    }

    public String recordId(Conversation conversation) {
        return RecordId.of(options.stage(), conversation.normalised());
    }

    /** Step 2 (chat-template): the full rendered conversation, as HF apply_chat_template gives it. */
    public String render(Conversation conversation) throws RecordRejected {
        return template.render(conversation, false);
    }

    /** Step 2 with its findings: the rendered text and the warnings that depend on the content. */
    public Rendered template(Conversation conversation) throws RecordRejected {
        List<Warning> warnings = new ArrayList<>();
        if (hasSpecialTokenText(conversation)) {
            warnings.add(Warning.SPECIAL_TOKEN_IN_CONTENT);
        }
        return new Rendered(render(conversation), warnings);
    }

    /** Step 3 (tokenize): the ids of the whole text, no special tokens added, nothing cut. */
    public int[] tokenize(String text) {
        return folder.tokenizer().ids(text);
    }

    /** Step 4 (loss-mask): the assistant mask, truncation and padding to T, and the trainable-token check. */
    public Masked mask(int[] ids) throws RecordRejected {
        int[] mask = patternRule.mask(ids);
        Row row = Row.fit(ids, mask, options.seqLen(), folder.padId());
        if (row.trainedTokens() == 0) {
            throw new RecordRejected(Reason.NO_TRAINABLE_TOKENS, row.truncated()
                    ? "no assistant token is left in the first " + options.seqLen() + " tokens (the record has " + ids.length + ")"
                    : "the rendered conversation has no assistant token to train");
        }
        List<Warning> warnings = row.truncated() && trainedBeyond(mask, options.seqLen())
                ? List.of(Warning.ASSISTANT_TURN_TRUNCATED) : List.of();
        return new Masked(row, warnings);
    }

    /** A rendered conversation and the warnings found while rendering it. */
    public record Rendered(String text, List<Warning> warnings) {
        public Rendered {
            warnings = List.copyOf(warnings);
        }
    }

    /** A row of T ids with its unshifted mask, and the warnings found while masking. */
    public record Masked(Row row, List<Warning> warnings) {
        public Masked {
            warnings = List.copyOf(warnings);
        }
    }

    private boolean hasSpecialTokenText(Conversation conversation) {
        for (String content : conversation.contentTexts()) {
            for (String special : folder.addedTokenTexts()) {
                if (content.contains(special)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean trainedBeyond(int[] mask, int seqLen) {
        for (int i = seqLen; i < mask.length; i++) {
            if (mask[i] == 1) {
                return true;
            }
        }
        return false;
    }
}
