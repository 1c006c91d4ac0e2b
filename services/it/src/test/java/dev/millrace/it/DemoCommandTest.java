package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.Millrace;
import dev.millrace.core.record.Stage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code ./millrace demo}, run in-process: it starts the whole system for every stage, feeds each
 * stage its bundled sample, prints one summary line per stage (docs/cli.md#demo) in stage order on standard
 * output and stops everything it started. The numbers must be what offline preparation of the same
 * files gives ({@link DemoExpectations}; duplicates of a record id counted once: the system drops
 * them). Packed stages (pretrain, sft) move whole examples into fewer rows, so their row count is
 * not known beforehand: their shares must fit the offline token counts for some row count, the
 * same for both shares. Pretrain, SFT and DPO are then trained by the trainer service ({@code tiny}, SFT from the
 * pretrain checkpoint, DPO from SFT's): each adds a training line after its stage's line, whose last loss is at most
 * 0.8 of its first (distillation, from the SFT checkpoint: below its first), and its checkpoints stay in the run
 * directory; DPO's progress lines show its reward accuracy. Before the student's distillation, the teacher service
 * answered every distill prompt with the DPO checkpoint and every answer reached a distill batch.
 */
class DemoCommandTest {
    private static final Pattern SUMMARY = Pattern.compile(
            "stage=(\\w+) records=(\\d+) rejected=(\\d+) batches=(\\d+) nonpad_share=(\\d\\.\\d{3}) trained_share=(\\d\\.\\d{3}) packing=(on|off)");
    private static final Pattern TRAINING = Pattern.compile("stage=(\\w+) steps=(\\d+) first_loss=(\\d+\\.\\d{4}) last_loss=(\\d+\\.\\d{4})");
    private static final Pattern RUN_DIR = Pattern.compile("run directory (\\S+) \\(process logs in (\\S+)\\)");
    private static final Set<Stage> TRAINED = Set.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL);
    private static final int B = 8; // the demo's default

    @Test
    void runsEveryStageOnItsSampleAndPrintsOneSummaryLinePerStage() throws Exception {
        Repo.packagedRoot();
        Map<Stage, DemoExpectations> expected = new EnumMap<>(Stage.class);
        for (Stage stage : Stage.values()) {
            expected.put(stage, DemoExpectations.of(stage));
        }
        Set<Long> childrenBefore = children();

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Millrace.run(new String[] {"demo"}, o, e); // finds the checkout through millrace.repo.root
        }
        String stderr = err.toString(StandardCharsets.UTF_8);
        System.err.print(stderr);
        System.err.printf(Locale.ROOT, "demo took %.1f s%n", (System.nanoTime() - t0) / 1e9);

        assertThat(code).as(stderr).isZero();
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).as("standard output carries only the summary: a line per stage, a training line per trained stage")
                .hasSize(Stage.values().length + TRAINED.size());
        int i = 0;
        for (Stage stage : Stage.values()) {
            String line = lines.get(i++);
            Matcher m = SUMMARY.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            assertThat(m.group(1)).as("stage order").isEqualTo(stage.id());
            check(expected.get(stage), m);
            if (TRAINED.contains(stage)) {
                String trainingLine = lines.get(i++);
                Matcher t = TRAINING.matcher(trainingLine);
                assertThat(t.matches()).as(trainingLine).isTrue();
                assertThat(t.group(1)).as("the training line follows its stage's line").isEqualTo(stage.id());
                assertThat(Long.parseLong(t.group(2))).as(t.group()).isPositive();
                // Distillation starts from the SFT checkpoint on conversations like SFT's: its loss falls, by less.
                double share = stage == Stage.DISTILL ? 1.0 : 0.8;
                assertThat(Double.parseDouble(t.group(4))).as("the loss falls: " + t.group()).isLessThan(share * Double.parseDouble(t.group(3)));
            }
        }

        // Everything it started is stopped, and it said where the logs are.
        assertThat(children()).as("child processes left running").isSubsetOf(childrenBefore);
        Matcher dir = RUN_DIR.matcher(stderr);
        assertThat(dir.find()).as(stderr).isTrue();
        assertThat(Path.of(dir.group(2)).resolve("loss-mask.log")).satisfies(p -> assertThat(Files.isRegularFile(p)).isTrue());
        for (Stage stage : TRAINED) {
            // The checkpoints are kept, named on standard error, and SFT started from pretrain's.
            Path checkpoints = Path.of(dir.group(1)).resolve("checkpoints").resolve(stage.id());
            assertThat(stderr).contains(stage.id() + " trained").contains(checkpoints.toString());
            try (var entries = Files.list(checkpoints)) {
                assertThat(entries.map(p -> p.getFileName().toString())).as(checkpoints.toString()).anyMatch(n -> n.startsWith("step-"));
            }
        }
        assertThat(stderr).contains("starting from " + Path.of(dir.group(1)).resolve("checkpoints").resolve("pretrain"));
        assertThat(stderr).contains("starting from " + Path.of(dir.group(1)).resolve("checkpoints").resolve("sft"));
        assertThat(stderr).containsPattern("trainer dpo: step \\d+/\\d+ loss \\S+ .* reward_acc \\d\\.\\d\\d");
        Matcher teacher = Pattern.compile("the teacher answered (\\d+) of (\\d+) prompts").matcher(stderr);
        assertThat(teacher.find()).as(stderr).isTrue();
        assertThat(teacher.group(1)).as("every distill prompt answered").isEqualTo(teacher.group(2)).isNotEqualTo("0");
        assertThat(stderr).contains("the distill prompts with " + Path.of(dir.group(1)).resolve("checkpoints").resolve("dpo"));
    }

    /** One stage's line against offline preparation; rejected = ingest rejections + downstream dead letters (distill prompts are neither). */
    private static void check(DemoExpectations e, Matcher m) {
        String line = m.group(0);
        boolean packed = e.stage() == Stage.PRETRAIN || e.stage() == Stage.SFT;
        assertThat(m.group(7)).as(line).isEqualTo(packed ? "on" : "off");
        assertThat(Long.parseLong(m.group(2))).as("records: " + line).isEqualTo(e.records());
        assertThat(Long.parseLong(m.group(3))).as("rejected: " + line).isEqualTo(e.rejected());
        long batches = Long.parseLong(m.group(4));
        String nonPad = m.group(5);
        String trained = m.group(6);
        if (!packed) {
            // DPO: rows are chosen + rejected rows, a batch holds B pairs
            long perRecord = e.stage() == Stage.DPO ? 2 : 1;
            assertThat(nonPad + " " + trained).as("shares: " + line).isEqualTo(share(e.nonPad(), e.rows()) + " " + share(e.trained(), e.rows()));
            assertThat(batches).as("batches: " + line).isBetween((e.rows() / perRecord + B - 1) / B, e.rows() / perRecord);
            return;
        }
        List<Long> fits = new ArrayList<>();
        for (long rows = (e.nonPad() + DemoExpectations.T - 1) / DemoExpectations.T; rows <= e.rows(); rows++) {
            if (share(e.nonPad(), rows).equals(nonPad) && share(e.trainedPacked(rows), rows).equals(trained)) {
                fits.add(rows);
            }
        }
        assertThat(fits).as("a row count that gives both shares of %s from %d real and %d trained tokens (unpacked: %d rows, nonpad %s)",
                line, e.nonPad(), e.trainedPacked(e.rows()), e.rows(), share(e.nonPad(), e.rows())).isNotEmpty();
        assertThat(Double.parseDouble(nonPad)).as("packing fills rows better than padding: " + line)
                .isGreaterThan(e.nonPadShare(e.rows()));
        assertThat(batches).as("batches: " + line).isBetween((fits.get(0) + B - 1) / B, fits.get(fits.size() - 1));
    }

    private static String share(long tokens, long rows) {
        return String.format(Locale.ROOT, "%.3f", (double) tokens / (rows * (double) DemoExpectations.T));
    }

    private static Set<Long> children() {
        Set<Long> pids = new HashSet<>();
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).forEach(p -> pids.add(p.pid()));
        return pids;
    }
}
