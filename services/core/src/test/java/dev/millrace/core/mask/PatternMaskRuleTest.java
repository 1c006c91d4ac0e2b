package dev.millrace.core.mask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * SFT rule 4 (docs/semantics.md#sft-rule-4-the-pattern-rule) on synthetic ids: open = [1, 10, 11] stands for
 * {@code <|im_start|>assistant\n}, close = [2, 20] for {@code <|im_end|>\n}; 1 and 2 alone are the
 * special tokens, other small numbers are ordinary text.
 */
class PatternMaskRuleTest {
    private static final int[] OPEN = {1, 10, 11};
    private static final int[] CLOSE = {2, 20};
    private final PatternMaskRule rule = new PatternMaskRule(OPEN, CLOSE);

    @Test
    void singleTurnTrainsTheContentAndTheCloseButNotTheHeaderOrTheUser() {
        //              user: <s> user \n q  q  </s> \n | <s> asst \n | a  a  </s> \n
        int[] ids = {1, 12, 11, 5, 6, 2, 20, 1, 10, 11, 7, 8, 2, 20};
        int[] want = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};

        assertThat(rule.mask(ids)).containsExactly(want);
    }

    @Test
    void multiTurnTrainsEveryAssistantTurn() {
        int[] ids = {1, 12, 11, 5, 2, 20, 1, 10, 11, 7, 2, 20, 1, 12, 11, 6, 2, 20, 1, 10, 11, 8, 9, 2, 20};
        int[] want = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};

        assertThat(rule.mask(ids)).containsExactly(want);
    }

    @Test
    void tokensAfterTheCloseAreNotTrained() {
        int[] ids = {1, 10, 11, 7, 2, 20, 30, 31};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 1, 1, 1, 0, 0);
    }

    @Test
    void aHeaderAtTheVeryEndTrainsNothing() {
        // The seed's template emits "<|im_start|>assistant\n" after a trailing user message.
        int[] ids = {1, 12, 11, 5, 2, 20, 1, 10, 11};

        assertThat(rule.mask(ids)).containsOnly(0);
    }

    @Test
    void aHeaderAtTheEndAfterAnEarlierTurnTrainsOnlyTheEarlierTurn() {
        int[] ids = {1, 10, 11, 7, 2, 20, 1, 12, 11, 5, 2, 20, 1, 10, 11};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void aMissingCloseTrainsToTheEnd() {
        int[] ids = {1, 12, 11, 5, 2, 20, 1, 10, 11, 7, 8, 9};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1);
    }

    @Test
    void aCloseCutInHalfAtTheEndIsNotFoundAndTrainsToTheEnd() {
        int[] ids = {1, 10, 11, 7, 8, 2};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 1, 1, 1);
    }

    @Test
    void anOpenCutInHalfAtTheEndTrainsNothing() {
        int[] ids = {1, 10, 11, 7, 2, 20, 1, 10};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 1, 1, 1, 0, 0);
    }

    @Test
    void emptyContentTrainsOnlyTheClose() {
        int[] ids = {1, 12, 11, 5, 2, 20, 1, 10, 11, 2, 20};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1);
    }

    @Test
    void thePrefixOfAnOpenAloneIsNotAHeader() {
        // "<|im_start|>" followed by something other than "assistant\n" starts no trained span.
        int[] ids = {1, 10, 12, 7, 2, 20};

        assertThat(rule.mask(ids)).containsOnly(0);
    }

    @Test
    void aCloseBeforeAnyHeaderIsIgnored() {
        int[] ids = {5, 2, 20, 1, 10, 11, 7, 2, 20};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 0, 0, 0, 1, 1, 1);
    }

    @Test
    void anOpenInsideATrainedTurnDoesNotRestartTheTurn() {
        // Scanning continues after the close, so header text inside content is trained as content.
        int[] ids = {1, 10, 11, 7, 1, 10, 11, 8, 2, 20};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 1, 1, 1, 1, 1, 1, 1);
    }

    @Test
    void backToBackTurnsAreBothTrained() {
        int[] ids = {1, 10, 11, 7, 2, 20, 1, 10, 11, 8, 2, 20};

        assertThat(rule.mask(ids)).containsExactly(0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1);
    }

    @Test
    void noHeaderTrainsNothing() {
        assertThat(rule.mask(new int[] {1, 12, 11, 5, 2, 20})).containsOnly(0);
    }

    @Test
    void emptyIdsGiveAnEmptyMask() {
        assertThat(rule.mask(new int[0])).isEmpty();
    }

    @Test
    void theMaskHasTheLengthOfTheIdsAndTheIdsAreNotChanged() {
        int[] ids = {1, 10, 11, 7, 2, 20};
        int[] copy = ids.clone();

        assertThat(rule.mask(ids)).hasSameSizeAs(ids);
        assertThat(ids).containsExactly(copy);
    }

    @Test
    void singleTokenPatternsWork() {
        PatternMaskRule single = new PatternMaskRule(new int[] {100}, new int[] {200});

        assertThat(single.mask(new int[] {5, 100, 7, 200, 8})).containsExactly(0, 0, 1, 1, 0);
    }

    @Test
    void laterChangesToThePatternArraysDoNotAffectTheRule() {
        int[] open = {1, 10, 11};
        PatternMaskRule copied = new PatternMaskRule(open, CLOSE.clone());
        open[0] = 99;

        assertThat(copied.mask(new int[] {1, 10, 11, 7, 2, 20})).containsExactly(0, 0, 0, 1, 1, 1);
    }

    @Test
    void emptyPatternsAreRefused() {
        assertThatThrownBy(() -> new PatternMaskRule(new int[0], CLOSE)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PatternMaskRule(OPEN, new int[0])).isInstanceOf(IllegalArgumentException.class);
    }
}
