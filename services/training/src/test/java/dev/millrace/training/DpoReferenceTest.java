package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.dpo.DpoBatch;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.dpo.DpoTrainer;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The DPO loss against an independent numpy implementation ({@code reference_dpo.py} over
 * {@code reference_forward.py}'s model, reading only the checkpoints' files): per pair log-probs of both models
 * and losses, and the means over real pairs, agree within {@code 1e-4·max(1, |reference|)}, as the
 * cross-entropy reference does; summed and mean log-probs; a filler pair in the batch.
 */
class DpoReferenceTest {
    private static final double TOLERANCE = 1e-4;
    private static final double BETA = 0.5; // larger than the default, so the margins are far from 0

    @TempDir
    static Path dir;
    private static Path policyCheckpoint;
    private static Path referenceCheckpoint;
    private static MiniMind policy;
    private static MiniMind reference;

    @BeforeAll
    static void writeCheckpoints() throws Exception {
        policyCheckpoint = write("policy", MiniMind.initialise(TestBatches.tiny(), 3));
        referenceCheckpoint = write("reference", MiniMind.initialise(TestBatches.tiny(), 4));
        policy = Checkpoint.loadModel(policyCheckpoint);
        reference = Checkpoint.loadModel(referenceCheckpoint);
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
        policy.close();
        reference.close();
    }

    @ParameterizedTest
    @EnumSource(DpoLoss.LogProb.class)
    void dpoLossAgreesWithTheReference(DpoLoss.LogProb logProb) throws Exception {
        Random random = new Random(21);
        int vocab = policy.config().vocabSize();
        Batch batch = TestBatches.dpo("dpo-" + logProb.id(), 17, 4, List.of(
                TestBatches.pair(random, vocab, 5, 8, 11),
                TestBatches.pair(random, vocab, 3, 14, 4),
                TestBatches.pair(random, vocab, 9, 20, 6))); // chosen cut at T: truncated, still trained
        DpoBatch pairs = DpoBatch.from(batch);
        DpoTrainer trainer = new DpoTrainer(policy, reference, null, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)),
                new DpoTrainer.Settings(BETA, logProb), 0);
        float[] policyLogProbs = trainer.policyLogProbs(pairs);
        float[] referenceLogProbs = trainer.referenceLogProbs(pairs);
        DpoLoss.Totals totals = trainer.evaluate(pairs);

        JsonNode expected = NumpyReference.runDpo(policyCheckpoint, referenceCheckpoint, batch, BETA, logProb.id(), dir);

        int p = pairs.pairs();
        double worst = 0;
        for (int i = 0; i < p; i++) {
            assertThat(expected.get("real").get(i).asBoolean()).as("pair %d real", i).isEqualTo(pairs.pairWeights()[i] > 0);
            if (pairs.pairWeights()[i] == 0) {
                continue;
            }
            worst = Math.max(worst, error(policyLogProbs[i], expected.get("policy_chosen").get(i).asDouble()));
            worst = Math.max(worst, error(policyLogProbs[p + i], expected.get("policy_rejected").get(i).asDouble()));
            worst = Math.max(worst, error(referenceLogProbs[i], expected.get("ref_chosen").get(i).asDouble()));
            worst = Math.max(worst, error(referenceLogProbs[p + i], expected.get("ref_rejected").get(i).asDouble()));
        }
        double lossError = error(totals.meanLoss(), expected.get("mean_loss").asDouble());
        double marginError = error(totals.meanMargin(), expected.get("mean_margin").asDouble());
        System.out.printf("numpy DPO reference (%s): log-probs max relative error %.3g; loss %.6f vs %.6f (%.3g); margin %.6f vs %.6f (%.3g)%n",
                logProb.id(), worst, totals.meanLoss(), expected.get("mean_loss").asDouble(), lossError,
                totals.meanMargin(), expected.get("mean_margin").asDouble(), marginError);
        assertThat(pairs.realPairs()).isEqualTo(3);
        assertThat(totals.pairs()).isEqualTo(expected.get("pairs").asLong()).isEqualTo(3);
        assertThat(worst).as("max |a-b| / max(1,|b|) over real pairs' log-probs").isLessThanOrEqualTo(TOLERANCE);
        assertThat(lossError).as("mean loss").isLessThanOrEqualTo(TOLERANCE);
        assertThat(marginError).as("mean reward margin").isLessThanOrEqualTo(TOLERANCE);
        assertThat(totals.accuracy()).isEqualTo(expected.get("accuracy").asDouble());
        // The two models differ, so the pairs' losses are not all ln 2 (otherwise agreement would say little).
        assertThat(Math.abs(expected.get("mean_loss").asDouble() - Math.log(2))).isGreaterThan(1e-2);
    }

    private static double error(double a, double b) {
        return Math.abs(a - b) / Math.max(1, Math.abs(b));
    }
}
