package dev.millrace.core.mask;

import dev.millrace.core.record.Warning;
import java.util.List;

/**
 * Chooses and applies the mask rule for one sequence. With the pattern rule and known token spans
 * it also runs Millrace's cross-check (docs/semantics.md#sft-rule-4-the-pattern-rule): the number of assistant headers
 * followed by at least one real token must equal the number of assistant turns whose text starts
 * inside the row. When it does not, the pattern was fooled (header text typed in content, a reply
 * whose leading whitespace merged with the header newline) and the span rule's mask is used, with
 * the warning {@code MASK_PATTERN_MISMATCH} — never a silently untrained turn.
 */
public final class AssistantMask {
    private final PatternMaskRule pattern;
    private final MaskRule rule;
    private final TrainOn trainOn;

    /** @param pattern the ChatML pattern rule, or null when the vocabulary has no ChatML tokens (span rule only) */
    public AssistantMask(PatternMaskRule pattern, MaskRule rule, TrainOn trainOn) {
        if (rule == MaskRule.PATTERN && pattern == null) {
            throw new IllegalArgumentException("the pattern rule needs <|im_start|> and <|im_end|> in the vocabulary; use the span rule");
        }
        this.pattern = pattern;
        this.rule = rule;
        this.trainOn = trainOn;
    }

    public MaskRule rule() {
        return rule;
    }

    /** The mask and its warning, if any. */
    public record Result(int[] mask, List<Warning> warnings) {
    }

    /**
     * @param ids the whole (untruncated) sequence
     * @param tokenSpans token spans of the assistant turns (span rule), or null when unknown
     * @param seqLen T, to know which tokens the row keeps
     */
    public Result mask(int[] ids, List<Span> tokenSpans, int seqLen) {
        if (rule == MaskRule.SPAN) {
            if (tokenSpans == null) {
                throw new IllegalArgumentException("the span rule needs the assistant token spans");
            }
            return new Result(AssistantSpans.mask(ids.length, tokenSpans, trainOn), List.of());
        }
        int[] m = pattern.mask(ids, trainOn);
        if (tokenSpans != null) {
            int real = Math.min(ids.length, seqLen);
            int turnsInRow = (int) tokenSpans.stream().filter(s -> !s.isEmpty() && s.start() < real).count();
            if (pattern.openingsFollowedByTokens(ids, real) != turnsInRow) {
                return new Result(AssistantSpans.mask(ids.length, tokenSpans, trainOn), List.of(Warning.MASK_PATTERN_MISMATCH));
            }
        }
        return new Result(m, List.of());
    }
}
