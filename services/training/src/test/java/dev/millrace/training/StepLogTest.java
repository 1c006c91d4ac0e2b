package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.millrace.training.run.StepLog;
import dev.millrace.training.run.StepReport;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.OptionalDouble;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The step log's lines: the contract's keys, appended and flushed, read back with the last line of a step winning. */
class StepLogTest {
    @TempDir
    Path dir;

    private static StepReport report(long step, double loss, int pass, OptionalDouble eval) {
        return new StepReport(new Trainer.StepResult(step, loss, 5e-4, 0.75, 120, 2), pass, 0.5, 0.1, eval);
    }

    @Test
    void aDpoStepAddsItsPairsMeansAndReadsBackAsAnyStep() throws IOException {
        dev.millrace.training.dpo.DpoLoss.Totals pairs = new dev.millrace.training.dpo.DpoLoss.Totals(2.0, 0.5, 3, -100, -120, 4);
        String line = StepLog.format(new StepReport(new Trainer.StepResult(2, 0.5, 5e-4, 0.75, 120, 1), 0, 0.5, 0.1, OptionalDouble.empty(), pairs));
        assertThat(line).endsWith(",\"pass\":0,\"pairs\":4,\"reward_accuracy\":0.75,\"reward_margin\":0.125,\"chosen_logprob\":-25.0,"
                + "\"rejected_logprob\":-30.0}");
        Path file = dir.resolve("dpo-steps.jsonl");
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8);
        assertThat(StepLog.read(file).get(2L).loss()).isEqualTo(0.5);
    }

    @Test
    void aLogitLevelDistillationStepAddsItsCrossEntropyAndKl() throws IOException {
        String line = StepLog.format(new StepReport(new Trainer.StepResult(2, 1.5, 5e-4, 0.75, 120, 1,
                new dev.millrace.training.train.DistillLoss.Parts(2.25, 0.125)), 0, 0.5, 0.1, OptionalDouble.empty()));
        assertThat(line).endsWith(",\"pass\":0,\"ce\":2.25,\"kl\":0.125}");
        Path file = dir.resolve("distill-steps.jsonl");
        Files.writeString(file, line + "\n", StandardCharsets.UTF_8);
        assertThat(StepLog.read(file).get(2L).loss()).isEqualTo(1.5);
    }

    @Test
    void aLineHoldsTheContractsKeysInOrderAndEvalLossOnlyWhenEvaluated() throws IOException {
        assertThat(StepLog.format(report(3, 7.25, 1, OptionalDouble.empty())))
                .isEqualTo("{\"step\":3,\"loss\":7.25,\"lr\":5.0E-4,\"grad_norm\":0.75,\"trained_tokens\":120,\"batches\":2,\"pass\":1}");
        String evaluated = StepLog.format(report(4, 7.0, 0, OptionalDouble.of(6.5)));
        assertThat(evaluated).endsWith(",\"pass\":0,\"eval_loss\":6.5}");
        JsonNode node = new ObjectMapper().readTree(evaluated);
        assertThat(node.get("lr").asDouble()).isEqualTo(5e-4);
        assertThat(node.get("eval_loss").asDouble()).isEqualTo(6.5);
    }

    @Test
    void numbersJsonCannotHoldAreWrittenAsNull() throws IOException {
        StepReport diverged = new StepReport(new Trainer.StepResult(1, 9.0, 1e-3, Double.POSITIVE_INFINITY, 10, 1), 0, 0.1, 0, OptionalDouble.of(Double.NaN));
        String line = StepLog.format(diverged);
        assertThat(line).contains("\"grad_norm\":null").contains("\"eval_loss\":null");
        Path file = Files.writeString(dir.resolve(StepLog.FILE), line + "\n");
        StepLog.Line read = StepLog.read(file).get(1L);
        assertThat(read.gradNorm()).isNaN();
        assertThat(read.evalLoss()).isPresent();
        assertThat(read.evalLoss().getAsDouble()).isNaN();
    }

    @Test
    void linesAreAppendedAcrossRunsAndTheLastLineOfAStepWins() throws IOException {
        Path file = dir.resolve(StepLog.FILE);
        try (StepLog log = StepLog.open(file)) {
            log.append(report(1, 8.0, 0, OptionalDouble.empty()));
            log.append(report(2, 7.5, 0, OptionalDouble.of(7.9)));
            // Flushed per line: readable while the log is open.
            assertThat(Files.readAllLines(file)).hasSize(2);
        }
        try (StepLog log = StepLog.open(file)) { // a resumed run trains step 2 again
            log.append(report(2, 7.4, 0, OptionalDouble.empty()));
            log.append(report(3, 7.0, 1, OptionalDouble.empty()));
        }
        assertThat(Files.readAllLines(file)).hasSize(4);
        SortedMap<Long, StepLog.Line> lines = StepLog.read(file);
        assertThat(lines.keySet()).containsExactly(1L, 2L, 3L);
        assertThat(lines.get(2L).loss()).isEqualTo(7.4);
        assertThat(lines.get(2L).evalLoss()).isEmpty();
        assertThat(lines.get(3L)).isEqualTo(new StepLog.Line(3, 7.0, 5e-4, 0.75, 120, 2, 1, OptionalDouble.empty()));
    }

    @Test
    void aLineCutShortByAKillIsEndedAndSkipped() throws IOException {
        Path file = dir.resolve(StepLog.FILE);
        Files.writeString(file, StepLog.format(report(1, 8.0, 0, OptionalDouble.empty())) + "\n{\"step\":2,\"loss\":7.", StandardCharsets.UTF_8);
        try (StepLog log = StepLog.open(file)) {
            log.append(report(2, 7.5, 0, OptionalDouble.empty()));
        }
        List<String> raw = Files.readAllLines(file);
        assertThat(raw).hasSize(3);
        assertThat(raw.get(1)).isEqualTo("{\"step\":2,\"loss\":7.");
        assertThat(StepLog.read(file).keySet()).containsExactly(1L, 2L);
        assertThat(StepLog.read(file).get(2L).loss()).isEqualTo(7.5);
    }

    @Test
    void aCompleteLineThatIsNotJsonIsAnError() throws IOException {
        Path file = Files.writeString(dir.resolve(StepLog.FILE), "{\"step\":1,}\n", StandardOpenOption.CREATE);
        assertThatThrownBy(() -> StepLog.read(file)).isInstanceOf(IOException.class).hasMessageContaining("line 1 is not JSON");
    }
}
