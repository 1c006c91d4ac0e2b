package dev.millrace.core.mask;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.ChatTemplate;
import dev.millrace.core.template.jinja.Deadline;
import dev.millrace.core.template.jinja.RenderPieces;
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
        List<Span> fast = fromOneRender(template, conversation, fullText, deadline);
        return fast != null ? fast : byPrefixRenders(template, conversation, fullText, deadline);
    }

    /**
     * The spans read off one render of the whole conversation, in time linear in its length, when
     * the template allows it ({@link RenderPieces}: its prefix renders are provably cut from that
     * render) and every check of the rule passes; else null (then {@link #byPrefixRenders} decides,
     * and says what is wrong). Where it answers, the answer is the one {@link #byPrefixRenders}
     * gives: the same strings are compared and measured, only without building them.
     */
    public static List<Span> fromOneRender(ChatTemplate template, Conversation conversation, String fullText, Deadline deadline)
            throws RecordRejected {
        int n = conversation.size();
        if (n == 0 || conversation.isAssistant(0)) {
            return null; // the piece-wise renders hold for prefixes of at least one message
        }
        RenderPieces pieces = template.renderPieces(conversation, deadline);
        if (pieces == null || pieces.iterationEnds().length != n || pieces.length() != fullText.length()) {
            return null;
        }
        String pre = pieces.pre();
        String loop = pieces.loop();
        String postWithout = pieces.postWithoutPrompt();
        String postWith = pieces.postWithPrompt();
        if (!fullText.startsWith(pre) || !fullText.startsWith(loop, pre.length())
                || !fullText.startsWith(postWithout, pre.length() + loop.length())) {
            return null;
        }
        int[] ends = pieces.iterationEnds();
        CodePoints codePoints = new CodePoints(fullText);
        List<Span> spans = new ArrayList<>();
        for (int k = 1; k < n; k++) {
            if (!conversation.isAssistant(k)) {
                continue;
            }
            deadline.check();
            int from = ends[k - 1];
            int to = ends[k];
            // before = pre + loop[:from] + postWith; through = pre + loop[:to] + postWithout.
            // through starts with before  <=>  loop[from:to] + postWithout starts with postWith.
            if (!startsWithAfter(loop, from, to, postWithout, postWith)) {
                return null;
            }
            // fullText = pre + loop + postWithout starts with through  <=>  it has postWithout at pre + to.
            if (!fullText.startsWith(postWithout, pre.length() + to)) {
                return null;
            }
            spans.add(new Span(codePoints.before(pre.length() + from + postWith.length()),
                    codePoints.before(pre.length() + to + postWithout.length())));
        }
        return spans;
    }

    /** Whether {@code text[from:to] + tail} starts with {@code prefix}. */
    private static boolean startsWithAfter(String text, int from, int to, String tail, String prefix) {
        int segment = to - from;
        if (prefix.length() <= segment) {
            return text.regionMatches(from, prefix, 0, prefix.length());
        }
        int rest = prefix.length() - segment;
        return text.regionMatches(from, prefix, 0, segment) && rest <= tail.length() && tail.regionMatches(0, prefix, segment, rest);
    }

    /** {@code text.codePointCount(0, i)} for many i, each in constant time. */
    private static final class CodePoints {
        private final String text;
        /** pairs[i]: surrogate pairs that end before i (low surrogate at j < i, high at j - 1); null when there are none. */
        private int[] pairs;

        CodePoints(String text) {
            this.text = text;
            for (int i = 1; i < text.length(); i++) {
                if (Character.isLowSurrogate(text.charAt(i)) && Character.isHighSurrogate(text.charAt(i - 1))) {
                    pairs = new int[text.length() + 1];
                    break;
                }
            }
            if (pairs != null) {
                for (int i = 1; i <= text.length(); i++) {
                    int j = i - 1;
                    boolean pairEnds = j >= 1 && Character.isLowSurrogate(text.charAt(j)) && Character.isHighSurrogate(text.charAt(j - 1));
                    pairs[i] = pairs[i - 1] + (pairEnds ? 1 : 0);
                }
            }
        }

        int before(int index) {
            return pairs == null ? index : index - pairs[index];
        }
    }

    /** The rule as written: two prefix renders per assistant message (time quadratic in the conversation's length). */
    public static List<Span> byPrefixRenders(ChatTemplate template, Conversation conversation, String fullText, Deadline deadline)
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
