package dev.millrace.core.mask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** SFT rule 3 and the shift (docs/semantics.md#shift): truncation on the right, padding by position. */
class RowTest {
    private static final int EOS = 2;

    @Test
    void padsToTWithThePadId() {
        Row row = Row.fit(new int[] {5, 6, 7}, new int[] {0, 1, 1}, 6, 0);

        assertThat(row.ids()).containsExactly(5, 6, 7, 0, 0, 0);
        assertThat(row.mask()).containsExactly(0, 1, 1, 0, 0, 0);
        assertThat(row.realLength()).isEqualTo(3);
        assertThat(row.truncated()).isFalse();
        assertThat(row.seqLen()).isEqualTo(6);
    }

    @Test
    void whenPadIdEqualsEosTheEosStaysTrainedAndPaddingDoesNot() {
        // A tokenizer without a pad token pads with eos: padding is known by position, not by id.
        Row row = Row.fit(new int[] {5, 6, EOS}, new int[] {0, 1, 1}, 6, EOS);

        assertThat(row.ids()).containsExactly(5, 6, EOS, EOS, EOS, EOS);
        assertThat(row.mask()).containsExactly(0, 1, 1, 0, 0, 0);
        assertThat(row.realLength()).isEqualTo(3);
        assertThat(row.trainedTokens()).isEqualTo(2);
    }

    @Test
    void anEosInsideTheRealTokensKeepsItsMaskWhenItEqualsThePad() {
        Row row = Row.fit(new int[] {5, EOS, 6, EOS}, new int[] {1, 1, 1, 1}, 5, EOS);

        assertThat(row.mask()).containsExactly(1, 1, 1, 1, 0);
    }

    @Test
    void longerSequencesAreCutOnTheRightAndFlaggedTruncated() {
        Row row = Row.fit(new int[] {1, 2, 3, 4, 5, 6, 7}, new int[] {0, 0, 1, 1, 1, 1, 1}, 4, 0);

        assertThat(row.ids()).containsExactly(1, 2, 3, 4);
        assertThat(row.mask()).containsExactly(0, 0, 1, 1);
        assertThat(row.realLength()).isEqualTo(4);
        assertThat(row.truncated()).isTrue();
    }

    @Test
    void exactlyTTokensIsNeitherPaddedNorTruncated() {
        Row row = Row.fit(new int[] {1, 2, 3, 4}, new int[] {0, 1, 1, 1}, 4, 0);

        assertThat(row.ids()).containsExactly(1, 2, 3, 4);
        assertThat(row.mask()).containsExactly(0, 1, 1, 1);
        assertThat(row.realLength()).isEqualTo(4);
        assertThat(row.truncated()).isFalse();
    }

    @Test
    void anEmptySequenceIsAllPadding() {
        Row row = Row.fit(new int[0], new int[0], 3, 9);

        assertThat(row.ids()).containsExactly(9, 9, 9);
        assertThat(row.mask()).containsExactly(0, 0, 0);
        assertThat(row.realLength()).isZero();
        assertThat(row.trainedTokens()).isZero();
    }

    @Test
    void trainedTokensCountsOnlyTheRowNotWhatTruncationRemoved() {
        Row row = Row.fit(new int[] {1, 2, 3, 4, 5}, new int[] {1, 1, 1, 1, 1}, 3, 0);

        assertThat(row.trainedTokens()).isEqualTo(3);
    }

    @Test
    void fitDoesNotChangeItsInputs() {
        int[] ids = {5, 6, 7};
        int[] mask = {0, 1, 1};

        Row.fit(ids, mask, 2, 0);
        Row.fit(ids, mask, 5, 0);

        assertThat(ids).containsExactly(5, 6, 7);
        assertThat(mask).containsExactly(0, 1, 1);
    }

    @Test
    void shiftGivesXYAndLossMaskOfLengthTMinusOne() {
        Row row = Row.fit(new int[] {10, 11, 12, 13, 14}, new int[] {0, 0, 1, 1, 1}, 7, 0);

        Row.Shifted s = row.shift();

        assertThat(s.x()).containsExactly(10, 11, 12, 13, 14, 0);
        assertThat(s.y()).containsExactly(11, 12, 13, 14, 0, 0);
        assertThat(s.lossMask()).containsExactly(0, 1, 1, 1, 0, 0);
        assertThat(s.x()).hasSize(6);
        assertThat(s.y()).hasSize(6);
        assertThat(s.lossMask()).hasSize(6);
    }

    @Test
    void theLossMaskAtKSaysWhetherPredictingYkIsTrained() {
        Row row = Row.fit(new int[] {10, 11, 12, 13}, new int[] {1, 0, 1, 0}, 4, 0);

        Row.Shifted s = row.shift();

        // Y[k] = ids[k+1] and lossMask[k] = m[k+1]: the mask of position 0 is dropped.
        for (int k = 0; k < 3; k++) {
            assertThat(s.y()[k]).isEqualTo(row.ids()[k + 1]);
            assertThat(s.lossMask()[k]).isEqualTo(row.mask()[k + 1]);
        }
        assertThat(s.lossMask()).containsExactly(0, 1, 0);
    }

    @Test
    void shiftOfTheShortestRowHasOneTarget() {
        Row.Shifted s = Row.fit(new int[] {3, 4}, new int[] {0, 1}, 2, 0).shift();

        assertThat(s.x()).containsExactly(3);
        assertThat(s.y()).containsExactly(4);
        assertThat(s.lossMask()).containsExactly(1);
    }

    @Test
    void idsAndMaskOfDifferentLengthsAreRefused() {
        assertThatThrownBy(() -> Row.fit(new int[] {1, 2}, new int[] {1}, 4, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aSequenceLengthBelowTwoIsRefused() {
        assertThatThrownBy(() -> Row.fit(new int[] {1}, new int[] {1}, 1, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
