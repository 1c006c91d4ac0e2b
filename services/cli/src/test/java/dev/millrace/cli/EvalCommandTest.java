package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.checkpoint.TrainerState;
import dev.millrace.training.eval.EvalSet;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./millrace eval} end to end, in-process, on a checkpoint written here and lines of the bundled SFT sample. */
class EvalCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String BAD = "{\"conversations\": \"not a list\"}";

    @TempDir
    static Path dir;
    static Path checkpoint;
    static Path input;

    @BeforeAll
    static void writeCheckpointAndInput() throws Exception {
        try (TokenizerFolder folder = TokenizerFolder.bundled();
             MiniMind model = MiniMind.initialise(ModelConfig.preset("tiny", folder), 5);
             AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            TrainerState state = new TrainerState(0, 0, "sft", folder.fingerprint(), "tiny", Map.of(), List.of(), 0, 0, null);
            checkpoint = new CheckpointStore(dir.resolve("checkpoints"), 1)
                    .write(0, d -> Checkpoint.write(d, model, adamw, state, TokenizerFolder.bundledPath()));
        }
        List<String> lines = new ArrayList<>();
        try (InputStream in = EvalCommandTest.class.getResourceAsStream("/millrace/samples/sft.jsonl")) {
            new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().limit(4).forEach(lines::add);
        }
        lines.add(1, BAD);
        lines.add(3, "");
        input = dir.resolve("eval.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
    }

    @Test
    void printsOneLinePerInputLineAndTheMeanLossOfAllRows() throws Exception {
        CliRun run = CliRun.of("eval", "--checkpoint", checkpoint.toString(), "--stage", "sft", "--input", input.toString(),
                "--seq-len", "64", "--batch-size", "2");
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<JsonNode> out = new ArrayList<>();
        for (String line : run.outLines()) {
            out.add(JSON.readTree(line));
        }
        // lines 1..6 of which 4 is blank: five lines, then the total
        assertThat(out).hasSize(6);
        assertThat(out.subList(0, 5)).extracting(n -> n.get("line").asLong()).containsExactly(1L, 2L, 3L, 5L, 6L);

        // A rejected line is the error object prepare prints for it.
        CliRun prepare = CliRun.of("prepare", "--stage", "sft", "--seq-len", "64", "--input", input.toString(),
                "--tokenizer", checkpoint.toString());
        JsonNode prepared = JSON.readTree(prepare.outLines().get(1));
        assertThat(prepared.get("line").asLong()).isEqualTo(2);
        assertThat(out.get(1)).isEqualTo(prepared);
        assertThat(out.get(1).get("error").get("reason").asText()).isEqualTo("WRONG_TYPE");

        EvalSet set;
        try (TokenizerFolder folder = TokenizerFolder.open(checkpoint)) {
            set = EvalSet.prepare(input, Stage.SFT, 64, EvalSet.defaultPreparer(Stage.SFT, folder, 64));
        }
        EvalSet.Result expected;
        try (MiniMind model = Checkpoint.loadModel(checkpoint)) {
            expected = set.evaluate(model, 2);
        }
        List<JsonNode> records = out.subList(0, 5).stream().filter(n -> n.has("loss")).toList();
        assertThat(records).hasSize(expected.records().size()).hasSizeGreaterThanOrEqualTo(3);
        for (int i = 0; i < records.size(); i++) {
            EvalSet.RecordLoss r = expected.records().get(i);
            assertThat(records.get(i).get("line").asLong()).isEqualTo(r.record().line());
            assertThat(records.get(i).get("id").asText()).isEqualTo(r.record().recordId());
            assertThat(records.get(i).get("loss").asDouble()).isEqualTo(r.loss());
            assertThat(records.get(i).get("trained_tokens").asLong()).isEqualTo(r.trainedTokens()).isPositive();
        }
        JsonNode last = out.get(5);
        assertThat(last.get("mean_loss").asDouble()).isEqualTo(expected.meanLoss());
        // A fresh model guesses about uniformly: ln(vocab) within a margin.
        assertThat(last.get("mean_loss").asDouble()).isBetween(Math.log(4096) - 1, Math.log(4096) + 1);
        assertThat(last.get("trained_tokens").asLong()).isEqualTo(expected.trainedTokens());
        assertThat(last.get("records").asInt()).isEqualTo(records.size());
        assertThat(last.get("rejected").asInt()).isEqualTo(5 - records.size());
    }

    @Test
    void usageErrorsExitWith2() throws Exception {
        String ck = checkpoint.toString();
        String in = input.toString();
        assertThat(CliRun.of("eval", "--stage", "sft", "--input", in).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("eval", "--checkpoint", ck, "--stage", "bogus", "--input", in).exitCode()).isEqualTo(2);
        CliRun dpo = CliRun.of("eval", "--checkpoint", ck, "--stage", "dpo", "--input", in);
        assertThat(dpo.exitCode()).isEqualTo(2);
        assertThat(dpo.err()).contains("dpo");
        assertThat(CliRun.of("eval", "--checkpoint", ck, "--stage", "sft", "--input", in, "--seq-len", "1").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("eval", "--checkpoint", ck, "--stage", "sft", "--input", in, "--batch-size", "0").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("eval", "--checkpoint", ck, "--stage", "sft", "--input", dir.resolve("missing.jsonl").toString()).exitCode()).isEqualTo(2);
    }

    @Test
    void aDirectoryThatIsNotACheckpointFailsWithExit1() {
        CliRun run = CliRun.of("eval", "--checkpoint", dir.toString(), "--stage", "sft", "--input", input.toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("is not a checkpoint directory").contains("config.json");
        assertThat(run.out()).isEmpty();
    }
}
