package dev.millrace.core.mask;

import dev.millrace.core.tokenizer.Tokenizer;

/**
 * MiniMind's assistant mask (docs/semantics.md#sft-rule-4-the-pattern-rule): every token after an
 * {@code <|im_start|>assistant\n} header up to and including the next {@code <|im_end|>\n} is
 * trained; the header and every other token are not. A turn whose close pattern is missing is
 * trained to the end of the sequence.
 *
 * <p>The rule runs on the whole (untruncated, unpadded) sequence; cutting the result to the row
 * gives exactly what the rule run on the truncated row gives (a close pattern cut in half is "not
 * found" there and trains to the row's end, the same positions), and it also tells which trained
 * tokens truncation removed.
 */
public final class PatternMaskRule {
    private final int[] open;
    private final int[] close;

    public PatternMaskRule(int[] open, int[] close) {
        if (open.length == 0 || close.length == 0) {
            throw new IllegalArgumentException("open and close patterns must not be empty");
        }
        this.open = open.clone();
        this.close = close.clone();
    }

    /** ChatML's patterns, built from the literal strings (Qwen-style tokenizers have no bos token). */
    public static PatternMaskRule chatMl(Tokenizer tokenizer) {
        return new PatternMaskRule(tokenizer.ids("<|im_start|>assistant\n"), tokenizer.ids("<|im_end|>\n"));
    }

    /** The unshifted per-position mask for {@code ids} (1 = the token at that position is trained). */
    public int[] mask(int[] ids) {
        return mask(ids, TrainOn.ALL);
    }

    /**
     * The mask for all assistant turns, or only the last one that has any token after its header
     * ({@code train-on=last}; a header left open at the very end trains nothing, so it is not "last").
     */
    public int[] mask(int[] ids, TrainOn trainOn) {
        int n = ids.length;
        int[] m = new int[n];
        int lastStart = -1;
        int lastStop = -1;
        int i = 0;
        while (i < n) {
            if (!matchesAt(ids, open, i)) {
                i++;
                continue;
            }
            int start = i + open.length;
            int end = find(ids, close, start);
            int stop = end < 0 ? n : Math.min(end + close.length, n);
            if (stop > start) {
                lastStart = start;
                lastStop = stop;
                if (trainOn == TrainOn.ALL) {
                    java.util.Arrays.fill(m, start, stop, 1);
                }
            }
            i = end < 0 ? n : end + close.length;
        }
        if (trainOn == TrainOn.LAST && lastStart >= 0) {
            java.util.Arrays.fill(m, lastStart, lastStop, 1);
        }
        return m;
    }

    /** How many assistant headers in {@code ids[0..real)} are followed by at least one real token. */
    public int openingsFollowedByTokens(int[] ids, int real) {
        int count = 0;
        for (int i = 0; i + open.length < real; i++) {
            if (matchesAt(ids, open, i)) {
                count++;
                i += open.length - 1;
            }
        }
        return count;
    }

    private static int find(int[] ids, int[] pattern, int from) {
        for (int i = from; i + pattern.length <= ids.length; i++) {
            if (matchesAt(ids, pattern, i)) {
                return i;
            }
        }
        return -1;
    }

    private static boolean matchesAt(int[] ids, int[] pattern, int at) {
        if (at + pattern.length > ids.length) {
            return false;
        }
        for (int k = 0; k < pattern.length; k++) {
            if (ids[at + k] != pattern[k]) {
                return false;
            }
        }
        return true;
    }
}
