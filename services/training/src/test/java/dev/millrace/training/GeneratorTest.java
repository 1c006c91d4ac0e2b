package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.checkpoint.CheckpointHash;
import dev.millrace.training.generate.Generation;
import dev.millrace.training.generate.GenerationSettings;
import dev.millrace.training.generate.Generator;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelInput;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.NoGrad;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation from a trainer checkpoint: greedy as the full forward would pick, seeded sampling reproducible on replay, stopping. */
class GeneratorTest {
    private static final int[] PROMPT = {1, 17, 230, 4000, 9, 88};
    private static final int NO_TOKEN = -1;

    @TempDir
    static Path dir;
    private static Path checkpoint;
    private static MiniMind model;

    @BeforeAll
    static void writeCheckpoint() throws Exception {
        checkpoint = write(dir.resolve("a"), 0, TestBatches.sharpModel(TestBatches.tiny(), 7));
        model = Checkpoint.loadModel(checkpoint);
    }

    private static Path write(Path root, long step, MiniMind written) throws Exception {
        try (written; AdamW adamw = new AdamW(AdamW.Settings.defaults(), written.weights())) {
            TrainerState state = new TrainerState(step, 0, "dpo", TestBatches.FINGERPRINT, "tiny", Map.of(), List.of(), 0, 0, null);
            return new CheckpointStore(root, 1).write(step, d -> Checkpoint.write(d, written, adamw, state, TokenizerFolder.bundledPath()));
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void greedyPicksWhatTheFullForwardPassPicksAtEveryStep() {
        Generation cached = new Generator(model).generate(PROMPT, GenerationSettings.greedy(12, NO_TOKEN), 0);

        long[] sequence = Arrays.stream(PROMPT).asLongStream().toArray();
        int[] expected = new int[12];
        try (NoGrad g = NoGrad.enter(); NDManager scratch = NDManager.newBaseManager()) {
            for (int n = 0; n < expected.length; n++) {
                float[] logits = model.forward(scratch, ModelInput.unpacked(1, sequence.length, sequence))
                        .get("0, -1, :").toFloatArray();
                int best = 0;
                for (int v = 1; v < logits.length; v++) {
                    best = logits[v] > logits[best] ? v : best;
                }
                expected[n] = best;
                sequence = Arrays.copyOf(sequence, sequence.length + 1);
                sequence[sequence.length - 1] = best;
            }
        }
        assertThat(cached.tokens()).containsExactly(expected);
        assertThat(cached.finish()).isEqualTo(Generation.Finish.MAX_NEW_TOKENS);
        assertThat(cached.stoppedByItself()).isFalse();
    }

    @Test
    void stopsAtTheEndOfTurnTokenWithoutIt() {
        int[] free = new Generator(model).generate(PROMPT, GenerationSettings.greedy(12, NO_TOKEN), 0).tokens();
        int endOfTurn = free[4];
        int first = Arrays.stream(free).boxed().toList().indexOf(endOfTurn);

        Generation stopped = new Generator(model).generate(PROMPT, GenerationSettings.greedy(12, endOfTurn), 0);

        assertThat(stopped.finish()).isEqualTo(Generation.Finish.END_OF_TURN);
        assertThat(stopped.stoppedByItself()).isTrue();
        assertThat(stopped.tokens()).containsExactly(Arrays.copyOf(free, first));
    }

    @Test
    void theSameSeedGivesTheSameAnswerAlsoFromAReloadedCheckpointOnAnotherThread() throws Exception {
        GenerationSettings sampling = new GenerationSettings(16, 1.0, 0.95, NO_TOKEN);
        long seed = Generator.seedOf("record-42");
        int[] first = new Generator(model).generate(PROMPT, sampling, seed).tokens();

        int[] replayed = CompletableFuture.supplyAsync(() -> {
            try (MiniMind reloaded = Checkpoint.loadModel(checkpoint)) {
                return new Generator(reloaded).generate(PROMPT, sampling, seed).tokens();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).get();

        assertThat(replayed).containsExactly(first);
        Set<List<Integer>> answers = new HashSet<>();
        for (String id : List.of("record-1", "record-2", "record-3", "record-4")) {
            answers.add(Arrays.stream(new Generator(model).generate(PROMPT, sampling, Generator.seedOf(id)).tokens()).boxed().toList());
        }
        assertThat(answers).as("answers of four seeds (temperature 1 over a 4096-token vocabulary)").hasSizeGreaterThan(1);
    }

    @Test
    void aNucleusOfOneTokenIsGreedy() {
        int[] greedy = new Generator(model).generate(PROMPT, GenerationSettings.greedy(10, NO_TOKEN), 0).tokens();
        int[] nucleus = new Generator(model).generate(PROMPT, new GenerationSettings(10, 1.0, 1e-9, NO_TOKEN), 5).tokens();
        assertThat(nucleus).containsExactly(greedy);
    }

    @Test
    void seedsAreDerivedFromRecordIdsStably() {
        assertThat(Generator.seedOf("record-42")).isEqualTo(Generator.seedOf("record-42")).isNotEqualTo(Generator.seedOf("record-43"));
    }

    @Test
    void aPromptPastTheModelsPositionsIsRefused() {
        int tooMany = model.config().maxPositions();
        assertThatThrownBy(() -> new Generator(model).generate(PROMPT, GenerationSettings.greedy(tooMany, NO_TOKEN), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positions");
        assertThatThrownBy(() -> new GenerationSettings(0, 0, 1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GenerationSettings(8, 1, 0, 2)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theContentHashNamesTheWeightsNotWhereOrWhenTheyWereWritten() throws Exception {
        Path sameWeightsLater = write(dir.resolve("b"), 9, TestBatches.sharpModel(TestBatches.tiny(), 7));
        Path otherWeights = write(dir.resolve("c"), 0, TestBatches.sharpModel(TestBatches.tiny(), 8));

        String id = CheckpointHash.of(checkpoint);
        assertThat(id).hasSize(64).isEqualTo(CheckpointHash.of(sameWeightsLater)).isNotEqualTo(CheckpointHash.of(otherWeights));
        Files.writeString(sameWeightsLater.resolve("tokenizer_config.json"), "{}");
        assertThat(CheckpointHash.of(sameWeightsLater)).as("another template").isNotEqualTo(id);
    }
}
