package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.TestBatches.Example;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What must hold whatever the weights: attention never looks ahead or into another example, and the loss only counts trained targets. */
class ModelPropertiesTest {
    private static final double SAME = 1e-6;
    private static MiniMind model;
    private static int vocab;

    @BeforeAll
    static void load() {
        model = TestBatches.sharpModel(TestBatches.tiny(), 3);
        vocab = model.config().vocabSize();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void changingTokensAfterPositionKNeverChangesLogitsUpToK() {
        Random random = new Random(1);
        int t = 16;
        int k = 6;
        Batch batch = TestBatches.unpacked("a", t, 1, List.of(TestBatches.example(random, vocab, t, 0)));
        Batch changed = batch;
        for (int p = k + 1; p < t; p++) {
            changed = TestBatches.withId(changed, 0, p, 3 + random.nextInt(vocab - 3));
        }
        float[] before = logits(batch);
        float[] after = logits(changed);
        int n = t - 1;
        for (int p = 0; p < n; p++) {
            double diff = maxDiff(before, after, p * vocab, (p + 1) * vocab);
            if (p <= k) {
                assertThat(diff).as("logits at %d", p).isLessThanOrEqualTo(SAME);
            } else {
                assertThat(diff).as("logits at %d (after the change: they must differ, or the test says nothing)", p).isGreaterThan(1e-3);
            }
        }
    }

    @Test
    void changingOneSegmentsTokensNeverChangesAnotherSegmentsLogits() {
        Random random = new Random(2);
        int t = 28;
        List<Example> examples = List.of(
                TestBatches.example(random, vocab, 7, 0),
                TestBatches.example(random, vocab, 10, 0),
                TestBatches.example(random, vocab, 8, 0));
        Batch batch = TestBatches.packed("p", t, 1, List.of(examples));
        // The middle example occupies positions 7..16: the one before it must not see it changing (causal), nor
        // the one after it (only the segment mask keeps it out).
        Batch changed = batch;
        for (int p = 7; p < 17; p++) {
            changed = TestBatches.withId(changed, 0, p, 3 + random.nextInt(vocab - 3));
        }
        float[] before = logits(batch);
        float[] after = logits(changed);
        for (int p = 0; p < t - 1; p++) {
            double diff = maxDiff(before, after, p * vocab, (p + 1) * vocab);
            boolean inChangedSegment = p >= 7 && p < 17;
            if (inChangedSegment) {
                assertThat(diff).as("logits at %d, inside the changed example", p).isGreaterThan(1e-3);
            } else {
                assertThat(diff).as("logits at %d, outside the changed example", p).isLessThanOrEqualTo(SAME);
            }
        }
    }

    @Test
    void changingATargetWhoseShiftedMaskIsZeroNeverChangesTheLoss() {
        Random random = new Random(4);
        Batch batch = TestBatches.unpacked("m", 20, 2, List.of(
                TestBatches.example(random, vocab, 20, 8),
                TestBatches.example(random, vocab, 12, 5)));
        BatchTensors tensors = BatchTensors.from(batch);
        long[] targets = tensors.targets().clone();
        int changedTargets = 0;
        for (int i = 0; i < targets.length; i++) {
            if (tensors.weights()[i] == 0) {
                targets[i] = 3 + random.nextInt(vocab - 3);
                changedTargets++;
            }
        }
        BatchTensors changed = new BatchTensors(tensors.batchId(), tensors.rows(), tensors.length(), tensors.inputs(), targets,
                tensors.weights(), tensors.positions(), tensors.segments());
        Trainer trainer = trainer();
        assertThat(changedTargets).isGreaterThan(10);
        assertThat(trainer.loss(changed)).isEqualTo(trainer.loss(tensors));

        // The last id of a row is only ever a target: on the wire, with a mask bit of 0 there, it changes nothing either.
        Batch lastChanged = TestBatches.withId(batch, 1, 19, 77); // row 1 is 12 tokens: position 19 is padding
        assertThat(trainer.loss(BatchTensors.from(lastChanged))).isEqualTo(trainer.loss(tensors));
    }

    @Test
    void fillerRowsAndPaddingContributeNothing() {
        Random random = new Random(5);
        List<Example> examples = List.of(TestBatches.example(random, vocab, 14, 4), TestBatches.example(random, vocab, 9, 2));
        Random same = new Random(5);
        List<Example> again = List.of(TestBatches.example(same, vocab, 14, 4), TestBatches.example(same, vocab, 9, 2));
        Trainer trainer = trainer();
        double twoRows = trainer.loss(BatchTensors.from(TestBatches.unpacked("a", 16, 2, examples)));
        double withFillers = trainer.loss(BatchTensors.from(TestBatches.unpacked("b", 16, 5, again)));
        assertThat(withFillers).isCloseTo(twoRows, org.assertj.core.data.Offset.offset(1e-6));
    }

    private static Trainer trainer() {
        return new Trainer(model, null, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)), 0);
    }

    private static float[] logits(Batch batch) {
        try (NDManager scratch = NDManager.newBaseManager()) {
            return model.forward(scratch, BatchTensors.from(batch).input()).toFloatArray();
        }
    }

    private static double maxDiff(float[] a, float[] b, int from, int to) {
        double max = 0;
        for (int i = from; i < to; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
