package dev.millrace.core.prepare;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.mask.AssistantMask;
import dev.millrace.core.mask.AssistantSpans;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.PatternMaskRule;
import dev.millrace.core.mask.Row;
import dev.millrace.core.mask.Span;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Warning;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.template.RenderCoverage;
import dev.millrace.core.template.jinja.Deadline;
import dev.millrace.core.tokenizer.TokenIds;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The whole SFT path for one record, from raw bytes to a row (docs/semantics.md#sft, rules 1-9):
 * parse, read the conversation and check roles, render the chat template (check that it carries
 * the whole record, and locate each
 * assistant turn's text by prefix renders), encode, mask (pattern rule with its cross-check, or
 * span rule), truncate and pad to T. Each step is a public method so the Kafka services can run
 * them one per topic; {@code ./millrace prepare} runs them in a row.
 */
public final class SftPreparer implements LinePreparer {
    private final TokenizerFolder folder;
    private final SftOptions options;
    private final ChatTemplate template;
    private final AssistantMask assistantMask;

    /** @throws IllegalArgumentException for the pattern rule on a vocabulary without ChatML tokens */
    public SftPreparer(TokenizerFolder folder, SftOptions options) {
        this.folder = folder;
        this.options = options;
        this.template = new ChatTemplate(folder.config());
        MaskRule rule = options.maskRule() != null ? options.maskRule() : defaultRule(folder);
        PatternMaskRule pattern = folder.isChatMl() ? PatternMaskRule.chatMl(folder.tokenizer()) : null;
        this.assistantMask = new AssistantMask(pattern, rule, options.trainOn());
    }

    /** docs/cli.md#prepare: pattern when the vocabulary has {@code <|im_start|>} and {@code <|im_end|>}, else span. */
    public static MaskRule defaultRule(TokenizerFolder folder) {
        return folder.isChatMl() ? MaskRule.PATTERN : MaskRule.SPAN;
    }

    public MaskRule maskRule() {
        return assistantMask.rule();
    }

    public SftOptions options() {
        return options;
    }

    /** Never throws for bad data: a bad line comes back as {@link Prepared.Rejected}. */
    @Override
    public Prepared prepare(RawLine line) {
        try {
            Conversation conversation = read(line.bytes());
            TemplatedConversation rendered = template(conversation);
            Tokenized tokenized = tokenize(rendered);
            Masked masked = mask(tokenized.ids(), tokenized.assistantTokenSpans());
            List<Warning> warnings = new ArrayList<>(rendered.warnings());
            warnings.addAll(masked.warnings());
            return new Prepared.Example(line.number(), recordId(conversation), rendered.text(), masked.row(), warnings);
        } catch (RecordRejected e) {
            return new Prepared.Rejected(line.number(), e.reason(), e.getMessage());
        }
    }

    /** Step 1 (ingest): bytes to a validated conversation. */
    public Conversation read(byte[] bytes) throws RecordRejected {
        return readWithFormat(bytes).asConversation();
    }

    /** Step 1 with the format the record was read as (detected, or the stage's forced one). */
    public RecordReader.Result readWithFormat(byte[] bytes) throws RecordRejected {
        JsonNode record = StrictJson.parse(bytes);
        return RecordReader.read(record, options.stage(), options.format());
    }

    public String recordId(Conversation conversation) {
        return RecordId.of(options.stage(), conversation.normalised());
    }

    /** The full rendered conversation, as HF apply_chat_template gives it (with the stage's system prompt). */
    public String render(Conversation conversation) throws RecordRejected {
        return template.render(withSystemPrompt(conversation), false);
    }

    /**
     * Step 2 (chat-template): the rendered text, the content warnings (or the special-token
     * rejection), the render-coverage check (a template that leaves out part of the record:
     * rejected, or a warning under {@code partial-render=accept}), and each assistant turn's
     * trainable text as code-point spans. Under the span
     * rule a template that is not prefix-consistent rejects the record; under the pattern rule the
     * spans only serve the cross-check, so they are left out (null) when they cannot be computed.
     */
    public TemplatedConversation template(Conversation conversation) throws RecordRejected {
        RecordBounds bounds = options.bounds();
        if (conversation.size() > bounds.maxMessages()) {
            throw new RecordRejected(Reason.TOO_MANY_MESSAGES, "the conversation has " + conversation.size()
                    + " messages, more than the limit (max-messages=" + bounds.maxMessages() + ")");
        }
        // One budget for all the template work on this record: the render and the span rule's prefix renders.
        Deadline deadline = Deadline.after(bounds.timeBudget());
        List<Warning> warnings = new ArrayList<>();
        String special = specialTokenText(conversation);
        if (special != null) {
            if (options.specialTokens() == SpecialTokenPolicy.REJECT) {
                throw new RecordRejected(Reason.SPECIAL_TOKEN_IN_CONTENT, "message content contains the special token "
                        + special + " (policy special-tokens-in-content=reject)");
            }
            warnings.add(Warning.SPECIAL_TOKEN_IN_CONTENT);
        }
        Conversation c = withSystemPrompt(conversation);
        String text = template.render(c, false, deadline);
        // Checked on the record's own messages, so a gap names the record's message index (an added
        // system prompt is not the record's, and the template may replace it).
        Optional<RenderCoverage.Gap> gap = RenderCoverage.check(conversation, text);
        if (gap.isPresent()) {
            if (options.partialRender() == PartialRenderPolicy.REJECT) {
                throw new RecordRejected(Reason.TEMPLATE_DROPPED_CONTENT, gap.get().describe() + " (policy partial-render=reject)");
            }
            warnings.add(Warning.TEMPLATE_DROPPED_CONTENT);
        }
        List<Span> spans;
        try {
            spans = AssistantSpans.textSpans(template, c, text, deadline);
        } catch (RecordRejected e) {
            if (maskRule() == MaskRule.SPAN || e.reason() == Reason.RECORD_TIME_BUDGET_EXCEEDED) {
                throw e;
            }
            spans = null;
        }
        return new TemplatedConversation(text, warnings, spans);
    }

    /** Step 3 (tokenize): the ids of the whole text, no special tokens added, nothing cut; spans mapped to tokens. */
    public Tokenized tokenize(TemplatedConversation rendered) {
        return tokenize(rendered.text(), rendered.assistantSpans());
    }

    /** @param assistantSpans code-point spans of the assistant turns, or null when unknown */
    public Tokenized tokenize(String text, List<Span> assistantSpans) {
        TokenIds tokens = folder.tokenizer().encode(text);
        return new Tokenized(tokens.ids(), assistantSpans == null ? null : AssistantSpans.tokenSpans(assistantSpans, tokens));
    }

    /** Step 4 (loss-mask): the assistant mask, truncation and padding to T, and the trainable-token check. */
    public Masked mask(int[] ids, List<Span> assistantTokenSpans) throws RecordRejected {
        AssistantMask.Result result = assistantMask.mask(ids, assistantTokenSpans, options.seqLen());
        int[] mask = result.mask();
        Row row = Row.fit(ids, mask, options.seqLen(), folder.padId());
        if (row.trainedTokens() == 0) {
            throw new RecordRejected(Reason.NO_TRAINABLE_TOKENS, row.truncated()
                    ? "no assistant token is left in the first " + options.seqLen() + " tokens (the record has " + ids.length + ")"
                    : "the rendered conversation has no assistant token to train");
        }
        List<Warning> warnings = new ArrayList<>(result.warnings());
        if (row.truncated() && trainedBeyond(mask, options.seqLen())) {
            warnings.add(Warning.ASSISTANT_TURN_TRUNCATED);
        }
        return new Masked(row, warnings);
    }

    private Conversation withSystemPrompt(Conversation conversation) {
        if (options.systemPrompt() == null || (conversation.size() > 0 && "system".equals(conversation.role(0)))) {
            return conversation;
        }
        List<Map<String, Object>> messages = new ArrayList<>();
        Map<String, Object> system = new LinkedHashMap<>();
        system.put("role", "system");
        system.put("content", options.systemPrompt());
        messages.add(system);
        messages.addAll(conversation.messages());
        return new Conversation(messages, conversation.tools());
    }

    /** A rendered conversation, its content warnings, and the assistant turns' text spans (null: unknown). */
    public record TemplatedConversation(String text, List<Warning> warnings, List<Span> assistantSpans) {
        public TemplatedConversation {
            warnings = List.copyOf(warnings);
            assistantSpans = assistantSpans == null ? null : List.copyOf(assistantSpans);
        }
    }

    /** Token ids of a whole text and the assistant turns' token spans (null: unknown). */
    public record Tokenized(int[] ids, List<Span> assistantTokenSpans) {
    }

    /** A row of T ids with its unshifted mask, and the warnings found while masking. */
    public record Masked(Row row, List<Warning> warnings) {
        public Masked {
            warnings = List.copyOf(warnings);
        }
    }

    private String specialTokenText(Conversation conversation) {
        for (String content : conversation.contentTexts()) {
            for (String special : folder.addedTokenTexts()) {
                if (content.contains(special)) {
                    return special;
                }
            }
        }
        return null;
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
