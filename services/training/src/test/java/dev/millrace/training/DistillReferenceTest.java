package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.DistillLoss;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The logit-level distillation loss against an independent numpy implementation ({@code reference_distill.py} over
 * {@code reference_forward.py}'s model, reading only the checkpoints' files): the batch's cross-entropy, KL and
 * combined loss agree within {@code 1e-4·max(1, |reference|)}, as the cross-entropy reference does, for an
 * unpacked batch with prompt positions and a filler row and for a packed batch; the teacher has more vocabulary
 * rows than the student (cut to the student's) and other weights.
 */
class DistillReferenceTest {
    private static final double TOLERANCE = 1e-4;
    private static final double ALPHA = 0.3; // not the defaults, so a swapped α or τ shows
    private static final double TEMPERATURE = 2.0;
    private static final int T = 17;

    @TempDir
    static Path dir;
    private static Path studentCheckpoint;
    private static Path teacherCheckpoint;
    private static MiniMind student;
    private static MiniMind teacher;

    @BeforeAll
    static void writeCheckpoints() throws Exception {
        studentCheckpoint = write("student", MiniMind.initialise(TestBatches.tiny(), 3));
        ModelConfig wider = ModelConfig.preset("tiny", TestBatches.tiny().vocabSize() + 64, 1, 2, TestBatches.PAD);
        teacherCheckpoint = write("teacher", TestBatches.sharpModel(wider, 4));
        student = Checkpoint.loadModel(studentCheckpoint);
        teacher = Checkpoint.loadModel(teacherCheckpoint);
    }

    private static Path write(String name, MiniMind model) throws Exception {
        try (model; AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            CheckpointStore store = new CheckpointStore(dir.resolve(name), 1);
            TrainerState state = new TrainerState(0, 0, "sft", TestBatches.FINGERPRINT, "tiny", Map.of(), List.of(), 0, 0, null);
            return store.write(0, d -> Checkpoint.write(d, model, adamw, state, TokenizerFolder.bundledPath()));
        }
    }

    @AfterAll
    static void close() {
        student.close();
        teacher.close();
    }

    @Test
    void distillationLossAgreesWithTheReference() throws Exception {
        Random random = new Random(17);
        int vocab = student.config().vocabSize();
        Batch unpacked = TestBatches.unpacked("distill-unpacked", T, 3, List.of(
                TestBatches.example(random, vocab, 12, 4), TestBatches.example(random, vocab, 20, 6))); // the second cut at T; a filler row
        Batch packed = TestBatches.packed("distill-packed", T, 2, List.of(
                List.of(TestBatches.example(random, vocab, 6, 2), TestBatches.example(random, vocab, 9, 3)),
                List.of(TestBatches.example(random, vocab, 14, 5))));
        Trainer trainer = new Trainer(student, null, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)), 0,
                new Trainer.Teacher(teacher, new DistillLoss.Settings(ALPHA, TEMPERATURE)));
        for (Batch batch : List.of(unpacked, packed)) {
            BatchTensors tensors = BatchTensors.from(batch);
            double loss = trainer.loss(tensors);
            DistillLoss.Parts parts = trainer.distillParts(tensors);
            JsonNode expected = NumpyReference.runDistill(studentCheckpoint, teacherCheckpoint, batch, ALPHA, TEMPERATURE, dir);

            double ceError = error(parts.ce(), expected.get("ce").asDouble());
            double klError = error(parts.kl(), expected.get("kl").asDouble());
            double lossError = error(loss, expected.get("loss").asDouble());
            System.out.printf("numpy distillation reference (%s): ce %.6f vs %.6f (%.3g), kl %.6f vs %.6f (%.3g), loss %.6f vs %.6f (%.3g)%n",
                    batch.getBatchId(), parts.ce(), expected.get("ce").asDouble(), ceError, parts.kl(), expected.get("kl").asDouble(), klError,
                    loss, expected.get("loss").asDouble(), lossError);
            assertThat(expected.get("weight_sum").asDouble()).isEqualTo(tensors.weightSum());
            assertThat(ceError).as("cross-entropy").isLessThanOrEqualTo(TOLERANCE);
            assertThat(klError).as("KL").isLessThanOrEqualTo(TOLERANCE);
            assertThat(lossError).as("combined loss").isLessThanOrEqualTo(TOLERANCE);
            // The models differ, so the KL is far from 0 (otherwise agreement would say little).
            assertThat(expected.get("kl").asDouble()).isGreaterThan(0.05);
        }
    }

    private static double error(double a, double b) {
        return Math.abs(a - b) / Math.max(1, Math.abs(b));
    }
}
