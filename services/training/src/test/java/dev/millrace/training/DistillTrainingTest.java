package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Logit-level distillation in {@link Trainer}: α = 1 is plain cross-entropy exactly; the student moves towards a
 * frozen teacher (loss and KL fall, the teacher's weights stay); a student equal to its teacher has KL 0;
 * accumulation reduces over the step's trained tokens as cross-entropy does; bad α, τ and a teacher whose
 * vocabulary does not cover the student's are refused.
 */
class DistillTrainingTest {
    private static final int T = 16;
    private static final int VOCAB = 4096;

    private static Trainer.Settings settings(int accumulation) {
        return new Trainer.Settings(LrSchedule.constant(1e-2, 0), 1.0, accumulation, AdamW.Settings.defaults());
    }

    @Test
    void alphaOneIsPlainCrossEntropyExactly() {
        List<BatchTensors> batches = TestBatches.randomUnpacked(5, 3, T, 3, VOCAB).stream().map(BatchTensors::from).toList();
        try (MiniMind plain = MiniMind.initialise(TestBatches.tiny(), 1); AdamW plainAdamw = new AdamW(AdamW.Settings.defaults(), plain.weights());
             MiniMind student = MiniMind.initialise(TestBatches.tiny(), 1); AdamW studentAdamw = new AdamW(AdamW.Settings.defaults(), student.weights());
             MiniMind teacher = TestBatches.sharpModel(TestBatches.tiny(), 2)) {
            Trainer ce = new Trainer(plain, plainAdamw, settings(1), 0);
            Trainer distilled = new Trainer(student, studentAdamw, settings(1), 0, new Trainer.Teacher(teacher, new DistillLoss.Settings(1.0, 1.5)));
            for (BatchTensors batch : batches) {
                Trainer.StepResult a = ce.add(batch).orElseThrow();
                Trainer.StepResult b = distilled.add(batch).orElseThrow();
                assertThat(b.loss()).as("step %d", a.step()).isEqualTo(a.loss());
                assertThat(b.gradNorm()).isEqualTo(a.gradNorm());
                assertThat(b.distill().ce()).isCloseTo(a.loss(), offset(1e-5));
                assertThat(b.distill().kl()).isGreaterThan(0.01); // the teacher differs, its term just weighs nothing
                assertThat(a.distill()).isNull();
            }
            Map<String, float[]> plainWeights = plain.values();
            // Arrays.equals: AssertJ's element-by-element comparison of 0.3 M floats takes seconds.
            student.values().forEach((name, values) -> assertThat(Arrays.equals(values, plainWeights.get(name))).as(name).isTrue());
        }
    }

    @Test
    void theStudentMovesTowardsItsFrozenTeacher() {
        BatchTensors batch = BatchTensors.from(TestBatches.randomUnpacked(7, 1, T, 4, VOCAB).get(0));
        try (MiniMind student = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), student.weights());
             MiniMind teacher = TestBatches.sharpModel(TestBatches.tiny(), 2)) {
            Map<String, float[]> teacherBefore = teacher.values();
            Trainer trainer = new Trainer(student, adamw, settings(1), 0, new Trainer.Teacher(teacher, DistillLoss.Settings.defaults()));
            double lossBefore = trainer.loss(batch);
            DistillLoss.Parts before = trainer.distillParts(batch);
            Trainer.StepResult first = trainer.add(batch).orElseThrow();
            assertThat(first.loss()).isCloseTo(lossBefore, offset(1e-5));
            assertThat(first.distill().kl()).isCloseTo(before.kl(), offset(1e-5));
            assertThat(first.loss()).isCloseTo(0.5 * before.ce() + 0.5 * 1.5 * 1.5 * before.kl(), offset(1e-4));
            for (int i = 0; i < 4; i++) {
                trainer.add(batch);
            }
            DistillLoss.Parts after = trainer.distillParts(batch);
            assertThat(trainer.loss(batch)).isLessThan(lossBefore - 0.05);
            assertThat(after.kl()).isLessThan(before.kl());
            teacher.values().forEach((name, values) -> assertThat(Arrays.equals(values, teacherBefore.get(name))).as(name).isTrue());
        }
    }

    @Test
    void aStudentEqualToItsTeacherHasNoKl() {
        BatchTensors batch = BatchTensors.from(TestBatches.randomUnpacked(8, 1, T, 3, VOCAB).get(0));
        try (MiniMind student = TestBatches.sharpModel(TestBatches.tiny(), 2); MiniMind teacher = TestBatches.sharpModel(TestBatches.tiny(), 2)) {
            Trainer trainer = new Trainer(student, null, settings(1), 0, new Trainer.Teacher(teacher, new DistillLoss.Settings(0.0, 3.0)));
            DistillLoss.Parts parts = trainer.distillParts(batch);
            assertThat(parts.kl()).isCloseTo(0, offset(1e-6));
            assertThat(trainer.loss(batch)).isCloseTo(0, offset(1e-5)); // α 0: the KL term only
            assertThat(parts.ce()).isGreaterThan(1);
        }
    }

    @Test
    void accumulationReducesOverTheStepsTrainedTokens() {
        List<BatchTensors> batches = TestBatches.randomUnpacked(9, 2, T, 3, VOCAB).stream().map(BatchTensors::from).toList();
        try (MiniMind student = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), student.weights());
             MiniMind teacher = TestBatches.sharpModel(TestBatches.tiny(), 2)) {
            Trainer trainer = new Trainer(student, adamw, settings(2), 0, new Trainer.Teacher(teacher, DistillLoss.Settings.defaults()));
            BatchTensors a = batches.get(0);
            BatchTensors b = batches.get(1);
            double wa = a.weightSum();
            double wb = b.weightSum();
            assertThat(wa).isNotEqualTo(wb); // otherwise a mean of the batches' means would pass too
            double expectedLoss = (trainer.loss(a) * wa + trainer.loss(b) * wb) / (wa + wb);
            DistillLoss.Parts pa = trainer.distillParts(a);
            DistillLoss.Parts pb = trainer.distillParts(b);
            assertThat(trainer.add(a)).isEmpty();
            Trainer.StepResult step = trainer.add(b).orElseThrow();
            assertThat(step.batches()).isEqualTo(2);
            assertThat(step.loss()).isCloseTo(expectedLoss, offset(1e-5));
            assertThat(step.distill().ce()).isCloseTo((pa.ce() * wa + pb.ce() * wb) / (wa + wb), offset(1e-5));
            assertThat(step.distill().kl()).isCloseTo((pa.kl() * wa + pb.kl() * wb) / (wa + wb), offset(1e-5));
        }
    }

    @Test
    void badSettingsAndATeacherThatDoesNotCoverTheStudentsVocabularyAreRefused() {
        assertThatThrownBy(() -> new DistillLoss.Settings(1.5, 1.0)).hasMessageContaining("alpha must be a number from 0 to 1");
        assertThatThrownBy(() -> new DistillLoss.Settings(Double.NaN, 1.0)).hasMessageContaining("alpha");
        assertThatThrownBy(() -> new DistillLoss.Settings(0.5, 0)).hasMessageContaining("temperature must be a positive number");
        assertThat(DistillLoss.Settings.defaults()).isEqualTo(new DistillLoss.Settings(0.5, 1.5));
        ModelConfig narrower = ModelConfig.preset("tiny", VOCAB - 1, 1, 2, TestBatches.PAD);
        try (MiniMind student = MiniMind.initialise(TestBatches.tiny(), 1); MiniMind teacher = MiniMind.initialise(narrower, 2)) {
            assertThatThrownBy(() -> new Trainer(student, null, settings(1), 0, new Trainer.Teacher(teacher, DistillLoss.Settings.defaults())))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("the distillation teacher's vocabulary has 4095 ids, the student's 4096");
        }
    }
}
