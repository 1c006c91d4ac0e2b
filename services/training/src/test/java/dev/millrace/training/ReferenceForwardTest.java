package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.training.TestBatches.Example;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.Trainer;
import dev.millrace.training.train.LrSchedule;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model against an independent numpy implementation of MiniMind2 that reads only the checkpoint's
 * {@code model.safetensors} and {@code config.json}: logits and loss agree within
 * {@code 1e-4·max(1, |reference|)} on real positions, for an unpacked and a packed batch.
 */
class ReferenceForwardTest {
    private static final double TOLERANCE = 1e-4;

    @TempDir
    static Path dir;
    private static Path checkpoint;
    private static MiniMind model;

    /**
     * Weights far from the initial ones (wider matrices, norm weights that are not 1), so attention is sharp and
     * a mistake in a norm, the rotary layout or the masks cannot hide behind near-uniform scores.
     */
    @BeforeAll
    static void writeCheckpoint() throws Exception {
        try (MiniMind written = TestBatches.sharpModel(TestBatches.tiny(), 7); AdamW adamw = new AdamW(AdamW.Settings.defaults(), written.weights())) {
            CheckpointStore store = new CheckpointStore(dir.resolve("checkpoints"), 1);
            TrainerState state = new TrainerState(0, 0, "sft", TestBatches.FINGERPRINT, "tiny", Map.of(), List.of(), 0, 0, null);
            checkpoint = store.write(0, d -> Checkpoint.write(d, written, adamw, state, TokenizerFolder.bundledPath()));
        }
        model = Checkpoint.loadModel(checkpoint); // the Java side reads the same files back
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void unpackedBatchAgreesWithTheReference() throws Exception {
        Random random = new Random(11);
        int vocab = model.config().vocabSize();
        Batch batch = TestBatches.unpacked("unpacked", 17, 3, List.of(
                TestBatches.example(random, vocab, 17, 5),
                TestBatches.example(random, vocab, 9, 3)));
        compare(batch);
    }

    @Test
    void packedBatchAgreesWithTheReference() throws Exception {
        Random random = new Random(13);
        int vocab = model.config().vocabSize();
        List<Example> full = List.of(
                TestBatches.example(random, vocab, 7, 2),
                TestBatches.example(random, vocab, 10, 4),
                TestBatches.example(random, vocab, 7, 0));
        List<Example> withPadding = List.of(
                TestBatches.example(random, vocab, 11, 3),
                TestBatches.example(random, vocab, 6, 1));
        Batch batch = TestBatches.packed("packed", 24, 3, List.of(full, withPadding));
        compare(batch);
    }

    private static void compare(Batch batch) throws Exception {
        int vocab = model.config().vocabSize();
        BatchTensors tensors = BatchTensors.from(batch);
        float[] logits;
        try (NDManager scratch = NDManager.newBaseManager()) {
            logits = model.forward(scratch, tensors.input()).toFloatArray();
        }
        Trainer trainer = new Trainer(model, null, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)), 0);
        double loss = trainer.loss(tensors);

        NumpyReference.Result reference = NumpyReference.run(checkpoint, batch, dir, vocab);

        int n = tensors.length();
        double worst = 0;
        int compared = 0;
        double smallestSpread = Double.MAX_VALUE;
        for (int r = 0; r < tensors.rows(); r++) {
            for (int t = 0; t < n; t++) {
                if (!isReal(batch, r, t)) {
                    continue;
                }
                double min = Double.MAX_VALUE;
                double max = -Double.MAX_VALUE;
                for (int v = 0; v < vocab; v++) {
                    int at = (r * n + t) * vocab + v;
                    min = Math.min(min, reference.logits()[at]);
                    max = Math.max(max, reference.logits()[at]);
                    double b = reference.logits()[at];
                    double error = Math.abs(logits[at] - b) / Math.max(1, Math.abs(b));
                    worst = Math.max(worst, error);
                    compared++;
                }
                smallestSpread = Math.min(smallestSpread, max - min);
            }
        }
        double lossError = Math.abs(loss - reference.loss()) / Math.max(1, Math.abs(reference.loss()));
        System.out.printf("numpy reference, %s batch: %d logits compared, max relative error %.3g; loss %.6f vs %.6f (error %.3g)%n",
                batch.getPacked() ? "packed" : "unpacked", compared, worst, loss, reference.loss(), lossError);
        assertThat(compared).isGreaterThan(10 * vocab);
        assertThat(reference.weightSum()).isEqualTo(tensors.weightSum());
        assertThat(worst).as("max |a-b| / max(1,|b|) over real positions' logits").isLessThanOrEqualTo(TOLERANCE);
        assertThat(lossError).as("loss").isLessThanOrEqualTo(TOLERANCE);
        // Every compared position's logits are far from uniform (otherwise agreement would say little).
        assertThat(smallestSpread).isGreaterThan(5);
    }

    /** A position of X holding a real token: not a filler row, not padding. */
    private static boolean isReal(Batch batch, int r, int t) {
        BatchRow row = batch.getRows(r);
        if (row.getFiller()) {
            return false;
        }
        return batch.getPacked() ? row.getSegmentIds(t) != 0 : t < row.getNonpadTokens();
    }
}
