package dev.millrace.core.mask;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.template.jinja.Deadline;
import dev.millrace.core.tokenizer.TokenIds;
import java.util.ArrayList;
import java.util.List;

/**
 * The span rule (docs/semantics.md#sft-rule-5-the-span-rule), template-agnostic. For the k-th message, if it is an
 * assistant message, its trainable text is {@code render(messages[:k+1])} minus the prefix
 * {@code render(messages[:k], add_generation_prompt=True)}; trainable tokens are those whose
 * code-point offsets lie entirely inside that text. A template whose renders are not prefixes of
 * each other (or that raises on a prefix) cannot be masked this way: the record is rejected with
 * {@code TEMPLATE_NOT_PREFIX_CONSISTENT}, never given a silently wrong mask.
 */
public final class AssistantSpans {
    private AssistantSpans() {
    }

    /**
     * Step 1 (chat-template): per assistant message, its trainable text as a code-point span of
     * {@code fullText} (the render of the whole conversation).
     */
    public static List<Span> textSpans(ChatTemplate template, Conversation conversation, String fullText) throws RecordRejected {
        return textSpans(template, conversation, fullText, Deadline.NONE);
    }

    /**
     * As {@link #textSpans(ChatTemplate, Conversation, String)}, stopping with
     * {@code RECORD_TIME_BUDGET_EXCEEDED} once {@code deadline} has passed (checked between and
     * during the prefix renders).
     */
    public static List<Span> textSpans(ChatTemplate template, Conversation conversation, String fullText, Deadline deadline)
            throws RecordRejected {
        List<Span> spans = new ArrayList<>();
        for (int k = 0; k < conversation.size(); k++) {
            if (!conversation.isAssistant(k)) {
                continue;
            }
            String before = renderPrefix(template, conversation, k, true, deadline);
            String through = renderPrefix(template, conversation, k + 1, false, deadline);
            if (!through.startsWith(before)) {
                throw notConsistent("the render of messages[:" + (k + 1) + "] does not start with the render of messages[:" + k
                        + "] with add_generation_prompt=True");
            }
            if (!fullText.startsWith(through)) {
                throw notConsistent("the render of the whole conversation does not start with the render of messages[:" + (k + 1) + "]");
            }
            spans.add(new Span(fullText.codePointCount(0, before.length()), fullText.codePointCount(0, through.length())));
        }
        return spans;
    }

    private static String renderPrefix(ChatTemplate template, Conversation conversation, int n, boolean generationPrompt,
                                       Deadline deadline) throws RecordRejected {
        try {
            return template.render(conversation.prefix(n), generationPrompt, deadline);
        } catch (RecordRejected e) {
            if (e.reason() == Reason.RECORD_TIME_BUDGET_EXCEEDED) {
                throw e; // not the template's fault: the record is too much work
            }
            throw notConsistent("rendering messages[:" + n + "] failed (" + e.getMessage() + "), so the assistant text cannot be located");
        }
    }

    private static RecordRejected notConsistent(String why) {
        return new RecordRejected(Reason.TEMPLATE_NOT_PREFIX_CONSISTENT, "span rule: " + why);
    }

    /**
     * Step 2 (tokenize): each text span as the range of token indices whose offsets lie entirely
     * inside it (a token straddling its start, e.g. a header newline merged with leading spaces of
     * the content, is not trained).
     */
    public static List<Span> tokenSpans(List<Span> textSpans, TokenIds tokens) {
        List<Span> out = new ArrayList<>(textSpans.size());
        for (Span text : textSpans) {
            int first = -1;
            int last = -1;
            for (int i = 0; i < tokens.length(); i++) {
                int s = tokens.startCodePoint()[i];
                int e = tokens.endCodePoint()[i];
                if (s >= text.start() && e <= text.end() && s >= 0) {
                    if (first < 0) {
                        first = i;
                    }
                    last = i;
                } else if (s >= text.end()) {
                    break;
                }
            }
            out.add(first < 0 ? new Span(0, 0) : new Span(first, last + 1));
        }
        return out;
    }

    /** Step 3 (loss-mask): the mask over {@code length} tokens from token spans. */
    public static int[] mask(int length, List<Span> tokenSpans, TrainOn trainOn) {
        int[] m = new int[length];
        List<Span> trained = tokenSpans;
        if (trainOn == TrainOn.LAST) {
            trained = tokenSpans.stream().filter(s -> !s.isEmpty()).reduce((a, b) -> b).map(List::of).orElse(List.of());
        }
        for (Span s : trained) {
            for (int i = s.start(); i < Math.min(s.end(), length); i++) {
                m[i] = 1;
            }
        }
        return m;
    }
}
