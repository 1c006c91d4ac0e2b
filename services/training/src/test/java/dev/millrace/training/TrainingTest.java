package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.TestBatches.Example;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.GradClip;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The optimiser step: it learns, it skips what has nothing to learn, accumulation is exact, clipping bounds the norm. */
class TrainingTest {
    private static final int T = 16;

    @Test
    void oneOptimiserStepOnAFixedBatchLowersItsLoss() {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Trainer trainer = new Trainer(model, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-2, 0)), 0);
            BatchTensors batch = BatchTensors.from(TestBatches.randomUnpacked(1, 1, T, 4, 4096).get(0));
            double before = trainer.loss(batch);
            Trainer.StepResult step = trainer.add(batch).orElseThrow();
            double after = trainer.loss(batch);
            assertThat(step.step()).isEqualTo(1);
            assertThat(step.loss()).isCloseTo(before, offset(1e-5));
            assertThat(step.trainedTokens()).isEqualTo(Math.round(batch.weightSum()));
            assertThat(after).isLessThan(before - 0.01);
        }
    }

    @Test
    void aBatchWithNoTrainedTokenIsSkippedAndCountedNeverNaN() {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Trainer trainer = new Trainer(model, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-2, 0)), 0);
            Random random = new Random(2);
            Batch promptOnly = TestBatches.unpacked("sft-p0-00000000", T, 3, List.of(TestBatches.example(random, 4096, 10, 10)));
            float[] before = model.weights().get(MiniMind.EMBED).toFloatArray();

            assertThat(trainer.add(BatchTensors.from(promptOnly))).isEmpty();

            assertThat(trainer.skippedBatches()).isEqualTo(1);
            assertThat(trainer.steps()).isZero();
            assertThat(trainer.pendingBatches()).isZero();
            assertThat(model.weights().get(MiniMind.EMBED).toFloatArray()).containsExactly(before);
        }
    }

    @Test
    void accumulatingTwoBatchesIsOneStepOverBothTogether() {
        Random random = new Random(3);
        List<Example> first = List.of(TestBatches.example(random, 4096, 16, 3), TestBatches.example(random, 4096, 7, 1));
        List<Example> second = List.of(TestBatches.example(random, 4096, 12, 6), TestBatches.example(random, 4096, 16, 0));
        List<Example> both = new ArrayList<>(first);
        both.addAll(second);
        LrSchedule lr = LrSchedule.constant(1e-2, 0);
        // eps 1 and no decay make the first update lr·g/(|g|+1) ≈ lr·g, linear in the gradient, so the updates can
        // be compared closely (with a small eps, Adam moves every weight by about lr·sign(g), amplifying rounding).
        AdamW.Settings linear = new AdamW.Settings(0.9, 0.999, 1.0, 0.0);

        try (MiniMind accumulated = MiniMind.initialise(TestBatches.tiny(), 5);
             MiniMind together = MiniMind.initialise(TestBatches.tiny(), 5);
             AdamW a = new AdamW(linear, accumulated.weights());
             AdamW b = new AdamW(linear, together.weights())) {
            Map<String, float[]> initial = together.values();
            Trainer twoBatches = new Trainer(accumulated, a, new Trainer.Settings(lr, 1e9, 2, linear), 0);
            Trainer oneBatch = new Trainer(together, b, new Trainer.Settings(lr, 1e9, 1, linear), 0);

            assertThat(twoBatches.add(BatchTensors.from(TestBatches.unpacked("sft-p0-00000000", T, 2, first)))).isEmpty();
            assertThat(twoBatches.pendingBatches()).isEqualTo(1);
            Trainer.StepResult accumulatedStep = twoBatches.add(BatchTensors.from(TestBatches.unpacked("sft-p0-00000001", T, 2, second))).orElseThrow();
            Trainer.StepResult singleStep = oneBatch.add(BatchTensors.from(TestBatches.unpacked("sft-p0-00000000", T, 4, both))).orElseThrow();

            assertThat(accumulatedStep.batches()).isEqualTo(2);
            assertThat(accumulatedStep.trainedTokens()).isEqualTo(singleStep.trainedTokens());
            assertThat(accumulatedStep.loss()).isCloseTo(singleStep.loss(), offset(1e-5));
            assertThat(accumulatedStep.gradNorm()).isCloseTo(singleStep.gradNorm(), offset(1e-5 * singleStep.gradNorm()));
            for (String name : initial.keySet()) {
                float[] start = initial.get(name);
                float[] x = accumulated.weights().get(name).toFloatArray();
                float[] y = together.weights().get(name).toFloatArray();
                double largest = 0;
                double worst = 0;
                for (int i = 0; i < start.length; i++) {
                    largest = Math.max(largest, Math.abs(y[i] - start[i]));
                    worst = Math.max(worst, Math.abs((x[i] - start[i]) - (y[i] - start[i])));
                }
                assertThat(largest).as("%s moved", name).isGreaterThan(0);
                assertThat(worst).as("%s: largest difference of the two updates", name).isLessThanOrEqualTo(1e-3 * largest);
            }
        }
    }

    @Test
    void globalNormClippingBoundsTheNormAndKeepsTheDirection() {
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> grads = List.of(
                    manager.randomNormal(0, 3, new Shape(40, 7), ai.djl.ndarray.types.DataType.FLOAT32),
                    manager.randomNormal(0, 0.01f, new Shape(13), ai.djl.ndarray.types.DataType.FLOAT32));
            double expected = 0;
            for (NDArray g : grads) {
                for (float f : g.toFloatArray()) {
                    expected += (double) f * f;
                }
            }
            double norm = GradClip.globalNorm(grads);
            assertThat(norm).isCloseTo(Math.sqrt(expected), offset(1e-4 * norm));

            double scale = GradClip.scale(norm, 1.0);
            float[] small = grads.get(1).toFloatArray();
            grads.forEach(g -> g.muli(scale));
            assertThat(GradClip.globalNorm(grads)).isLessThanOrEqualTo(1.0 + 1e-6).isCloseTo(1.0, offset(1e-4)); // float32 rounding aside
            // Every array scaled by the same factor, even the one that was tiny (per-element clamping would not).
            float[] scaled = grads.get(1).toFloatArray();
            for (int i = 0; i < small.length; i++) {
                assertThat((double) scaled[i]).isCloseTo(small[i] * scale, offset(1e-9));
            }
            assertThat(GradClip.scale(0.5, 1.0)).isEqualTo(1.0);
        }
    }

    @Test
    void adamWTakesTorchsStep() {
        double lr = 0.1;
        double[] p = {1.0, -2.0, 0.5};
        double[] c = {0.3, -0.1, 2.0};
        AdamW.Settings s = new AdamW.Settings(0.9, 0.95, 1e-8, 0.1);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.create(new float[] {1.0f, -2.0f, 0.5f});
            weight.setRequiresGradient(true);
            Map<String, NDArray> weights = Map.of("w", weight);
            try (AdamW adamw = new AdamW(s, weights)) {
                double[] m = new double[3];
                double[] v = new double[3];
                for (int step = 1; step <= 3; step++) {
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector();
                         NDManager scratch = manager.newSubManager()) {
                        collector.backward(weight.mul(scratch.create(new float[] {0.3f, -0.1f, 2.0f})).sum()); // gradient c
                    }
                    adamw.update(weights, lr, 0.5); // gradient scaled by 0.5, as clipping would
                    for (int i = 0; i < 3; i++) { // torch.optim.AdamW, in double
                        double g = c[i] * 0.5;
                        p[i] *= 1 - lr * s.weightDecay();
                        m[i] = s.beta1() * m[i] + (1 - s.beta1()) * g;
                        v[i] = s.beta2() * v[i] + (1 - s.beta2()) * g * g;
                        double denominator = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(s.beta2(), step)) + s.eps();
                        p[i] -= lr / (1 - Math.pow(s.beta1(), step)) * m[i] / denominator;
                    }
                    float[] actual = weight.toFloatArray();
                    for (int i = 0; i < 3; i++) {
                        assertThat((double) actual[i]).as("weight %d after step %d", i, step).isCloseTo(p[i], offset(1e-5));
                    }
                }
                assertThat(adamw.steps()).isEqualTo(3);
            }
        }
    }

    @Test
    void schedules() {
        LrSchedule cosine = LrSchedule.cosine(1e-3, 100);
        assertThat(cosine.at(0)).isCloseTo(1.1e-3, offset(1e-12));
        assertThat(cosine.at(50)).isCloseTo(0.6e-3, offset(1e-12));
        assertThat(cosine.at(100)).isCloseTo(1e-4, offset(1e-12));
        assertThat(cosine.at(150)).isCloseTo(1e-4, offset(1e-12));
        LrSchedule warm = LrSchedule.constant(1e-3, 10);
        assertThat(warm.at(0)).isCloseTo(1e-4, offset(1e-12));
        assertThat(warm.at(9)).isCloseTo(1e-3, offset(1e-12));
        assertThat(warm.at(10_000)).isEqualTo(1e-3);
        assertThat(LrSchedule.constant(5e-4, 0).at(0)).isEqualTo(5e-4);
    }

    @Test
    void aBatchThatDoesNotFitTheModelIsRefusedNamingBothValues() {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Trainer trainer = new Trainer(model, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-2, 0)), 0);
            Batch batch = TestBatches.withId(TestBatches.randomUnpacked(1, 1, T, 2, 4096).get(0), 0, 3, 5000);
            assertThatThrownBy(() -> trainer.add(BatchTensors.from(batch)))
                    .hasMessageContaining("5000").hasMessageContaining("4096");
        }
    }

}
