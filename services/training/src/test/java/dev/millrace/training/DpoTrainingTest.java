package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.dpo.DpoBatch;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.dpo.DpoTrainer;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The DPO loss's pieces and the DPO optimiser step: it learns to prefer chosen, filler pairs add nothing, the reference stays frozen. */
class DpoTrainingTest {
    private static final int T = 16;
    private static final int VOCAB = 4096;

    @Test
    void pairLossIsMinusLogSigmoidAndStableForLargeMargins() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = {-500f, -3f, 0f, 0.25f, 4f, 500f};
            NDArray zero = m.zeros(new ai.djl.ndarray.types.Shape(x.length));
            float[] losses = DpoLoss.pairLosses(m.create(x), zero, zero, zero, 1.0).toFloatArray();
            for (int i = 0; i < x.length; i++) {
                double expected = -Math.log(1 / (1 + Math.exp(-(double) x[i])));
                assertThat((double) losses[i]).as("x=%s", x[i]).isCloseTo(expected, offset(1e-5 * Math.max(1, expected)));
                assertThat(DpoLoss.pairLoss(x[i])).isCloseTo(expected, offset(1e-9 * Math.max(1, expected)));
            }
            // β scales the log-ratio difference: ((πc-πr)-(refc-refr)) = (−1−(−4)) − (−2−(−3)) = 2, times 0.1
            float[] one = DpoLoss.pairLosses(m.create(new float[] {-1f}), m.create(new float[] {-4f}),
                    m.create(new float[] {-2f}), m.create(new float[] {-3f}), 0.1).toFloatArray();
            assertThat((double) one[0]).isCloseTo(DpoLoss.pairLoss(0.2), offset(1e-6));
        }
    }

    @Test
    void sequenceLogProbSumsOrAveragesTheTrainedTokensOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            // 2 rows, 3 positions, vocabulary 2; logits 0 everywhere but row 0 position 1 (which is not trained).
            NDArray logits = m.zeros(new ai.djl.ndarray.types.Shape(2, 3, 2));
            logits.set(new ai.djl.ndarray.index.NDIndex("0, 1, 0"), 5f);
            NDArray targets = m.create(new long[] {0, 0, 1, 1, 1, 1}, new ai.djl.ndarray.types.Shape(2, 3));
            NDArray weights = m.create(new float[] {1, 0, 1, 0, 0, 0}, new ai.djl.ndarray.types.Shape(2, 3));
            float[] sum = DpoLoss.sequenceLogProbs(logits, targets, weights, DpoLoss.LogProb.SUM).toFloatArray();
            float[] mean = DpoLoss.sequenceLogProbs(logits, targets, weights, DpoLoss.LogProb.MEAN).toFloatArray();
            assertThat((double) sum[0]).isCloseTo(2 * Math.log(0.5), offset(1e-6));
            assertThat((double) mean[0]).isCloseTo(Math.log(0.5), offset(1e-6));
            assertThat(sum[1]).isZero(); // no trained token: 0, never 0/0
            assertThat(mean[1]).isZero();
        }
    }

    @Test
    void totalsCountRealPairsOnlyAndATieIsNotAccurate() {
        float[] w = {1, 0, 1, 1};
        DpoLoss.Totals t = DpoLoss.Totals.of(new float[] {-1, 99, -5, -2}, new float[] {-3, -99, -4, -2},
                new float[] {-2, 0, -5, -2}, new float[] {-2, 0, -5, -2}, w, 0.1);
        assertThat(t.pairs()).isEqualTo(3);
        // margins 0.1·((−1−(−3))−0) = 0.2, 0.1·((−5−(−4))−0) = −0.1, 0; the filler pair (99 vs −99) is left out
        assertThat(t.meanMargin()).isCloseTo((0.2 - 0.1 + 0) / 3, offset(1e-6));
        assertThat(t.accuracy()).isCloseTo(1.0 / 3, offset(1e-12));
        assertThat(t.meanChosenLogProb()).isCloseTo((-1 - 5 - 2) / 3.0, offset(1e-6));
        assertThat(t.meanRejectedLogProb()).isCloseTo((-3 - 4 - 2) / 3.0, offset(1e-6));
        assertThat(t.meanLoss()).isCloseTo((DpoLoss.pairLoss(0.2) + DpoLoss.pairLoss(-0.1) + DpoLoss.pairLoss(0)) / 3, offset(1e-9));
    }

    @Test
    void fillerPairsWeighNothingTheBatchMeanIsOverRealPairs() {
        Random random = new Random(5);
        List<TestBatches.Pair> given = List.of(TestBatches.pair(random, VOCAB, 4, 6, 9), TestBatches.pair(random, VOCAB, 6, 7, 3));
        DpoBatch exact = DpoBatch.from(TestBatches.dpo("dpo-exact", T, 2, given));
        DpoBatch withFillers = DpoBatch.from(TestBatches.dpo("dpo-fill", T, 5, given));
        assertThat(withFillers.pairs()).isEqualTo(5);
        assertThat(withFillers.realPairs()).isEqualTo(2);
        assertThat(withFillers.pairWeights()).containsExactly(1f, 1f, 0f, 0f, 0f);

        DpoTrainer.StepResult a = oneStep(exact);
        DpoTrainer.StepResult b = oneStep(withFillers);
        assertThat(b.totals().pairs()).isEqualTo(2);
        assertThat(b.loss()).isCloseTo(a.loss(), offset(1e-6));
        assertThat(b.totals().meanMargin()).isCloseTo(a.totals().meanMargin(), offset(1e-6));
        assertThat(b.gradNorm()).isCloseTo(a.gradNorm(), offset(1e-5 * a.gradNorm()));
        assertThat(a.gradNorm()).isGreaterThan(0);
    }

    private static DpoTrainer.StepResult oneStep(DpoBatch batch) {
        try (MiniMind policy = MiniMind.initialise(TestBatches.tiny(), 1); MiniMind reference = MiniMind.initialise(TestBatches.tiny(), 2);
             AdamW adamw = new AdamW(AdamW.Settings.defaults(), policy.weights())) {
            DpoTrainer trainer = new DpoTrainer(policy, reference, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)),
                    DpoTrainer.Settings.defaults(), 0);
            return trainer.add(batch).orElseThrow();
        }
    }

    @Test
    void aBatchOfFillerPairsOnlyIsSkippedAndCounted() {
        Random random = new Random(6);
        // The only pair's chosen side trains nothing (all prompt): it compares nothing, so it weighs 0 like a filler pair.
        TestBatches.Pair promptOnly = new TestBatches.Pair(TestBatches.example(random, VOCAB, 8, 8), TestBatches.example(random, VOCAB, 8, 2));
        DpoBatch batch = DpoBatch.from(TestBatches.dpo("dpo-none", T, 3, List.of(promptOnly)));
        try (MiniMind policy = MiniMind.initialise(TestBatches.tiny(), 1); MiniMind reference = MiniMind.initialise(TestBatches.tiny(), 1);
             AdamW adamw = new AdamW(AdamW.Settings.defaults(), policy.weights())) {
            DpoTrainer trainer = new DpoTrainer(policy, reference, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-2, 0)),
                    DpoTrainer.Settings.defaults(), 0);
            float[] before = policy.weights().get(MiniMind.EMBED).toFloatArray();
            assertThat(trainer.add(batch)).isEmpty();
            assertThat(trainer.skippedBatches()).isEqualTo(1);
            assertThat(trainer.steps()).isZero();
            assertThat(policy.weights().get(MiniMind.EMBED).toFloatArray()).containsExactly(before);
        }
    }

    /**
     * Policy and reference start equal (an SFT checkpoint and its frozen copy): every margin is 0, the loss ln 2 and
     * no pair accurate; a few steps on the same pairs raise the accuracy and lower the loss, and the reference
     * does not move.
     */
    @Test
    void dpoStepsRaiseRewardAccuracyAndLowerTheLossWhileTheReferenceStaysFrozen() {
        Random random = new Random(7);
        List<DpoBatch> batches = new ArrayList<>();
        for (int b = 0; b < 2; b++) {
            List<TestBatches.Pair> pairs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pairs.add(TestBatches.pair(random, VOCAB, 3 + i, 5 + i, 8 - i));
            }
            batches.add(DpoBatch.from(TestBatches.dpo("dpo-p0-" + b, T, 4, pairs)));
        }
        try (MiniMind policy = MiniMind.initialise(TestBatches.tiny(), 1);
             MiniMind reference = MiniMind.fromWeights(policy.config(), policy.values());
             AdamW adamw = new AdamW(AdamW.Settings.defaults(), policy.weights())) {
            DpoTrainer trainer = new DpoTrainer(policy, reference, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)),
                    DpoTrainer.Settings.defaults(), 0);
            float[] referenceBefore = reference.weights().get(MiniMind.EMBED).toFloatArray();
            DpoLoss.Totals first = trainer.evaluate(batches.get(0)).plus(trainer.evaluate(batches.get(1)));
            assertThat(first.meanLoss()).isCloseTo(Math.log(2), offset(1e-6));
            assertThat(first.accuracy()).isZero();

            List<DpoTrainer.StepResult> steps = new ArrayList<>();
            for (int s = 0; s < 6; s++) {
                steps.add(trainer.add(batches.get(s % 2)).orElseThrow());
            }
            DpoLoss.Totals last = trainer.evaluate(batches.get(0)).plus(trainer.evaluate(batches.get(1)));
            System.out.printf("DPO: loss %.4f -> %.4f, accuracy %.2f -> %.2f, margin %.4f%n",
                    first.meanLoss(), last.meanLoss(), first.accuracy(), last.accuracy(), last.meanMargin());
            assertThat(steps.get(0).loss()).isCloseTo(Math.log(2), offset(1e-5));
            assertThat(last.meanLoss()).isLessThan(first.meanLoss() - 0.05);
            assertThat(last.accuracy()).isGreaterThanOrEqualTo(0.75);
            assertThat(last.meanMargin()).isGreaterThan(0);
            assertThat(reference.weights().get(MiniMind.EMBED).toFloatArray()).containsExactly(referenceBefore);
            assertThat(trainer.referenceLogProbs(batches.get(0))).isNotEqualTo(trainer.policyLogProbs(batches.get(0)));
        }
    }

    @Test
    void aDpoBatchIsReadAsPairsAndNeverAsSingleRows() {
        Random random = new Random(8);
        Batch dpo = TestBatches.dpo("dpo-x", T, 2, List.of(TestBatches.pair(random, VOCAB, 3, 4, 5)));
        assertThatThrownBy(() -> BatchTensors.from(dpo)).hasMessageContaining("DPO batch");
        Batch sft = TestBatches.unpacked("sft-x", T, 2, List.of(TestBatches.example(random, VOCAB, 6, 2)));
        assertThatThrownBy(() -> DpoBatch.from(sft)).hasMessageContaining("not a DPO batch");
        Batch unpaired = dpo.toBuilder().removeRejectedRows(1).build();
        assertThatThrownBy(() -> DpoBatch.from(unpaired)).hasMessageContaining("2 chosen rows but 1 rejected rows");
        DpoBatch pairs = DpoBatch.from(dpo);
        assertThat(pairs.sides().rows()).isEqualTo(4); // chosen rows, then rejected rows
        assertThat(pairs.sides().targets()[0]).isEqualTo(dpo.getRows(0).getInputIds(1));
        assertThat(pairs.sides().targets()[2 * (T - 1)]).isEqualTo(dpo.getRejectedRows(0).getInputIds(1));
    }
}
