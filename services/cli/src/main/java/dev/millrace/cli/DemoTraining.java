package dev.millrace.cli;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.ManagedProcess;
import dev.millrace.cli.local.TrainerOptions;
import dev.millrace.core.record.Stage;
import dev.millrace.training.run.StepLog;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The demo's training, after the batches are through: the trainer service trains {@code tiny} on the pretrain
 * batches, then SFT from the pretrain checkpoint, each reading its batch topic over as many passes as its
 * step cap needs. Checkpoints stay in the run directory ({@code checkpoints/<stage>}); their names go to
 * standard error; each stage's losses become a summary line ({@link TrainingSummary}).
 */
final class DemoTraining {
    /** The stages the demo trains (DPO and distillation are not trained yet). */
    static final Set<Stage> TRAINED = EnumSet.of(Stage.PRETRAIN, Stage.SFT);
    static final String MODEL = "tiny";
    /**
     * The default peak rate: high, for a tiny model on a few hundred examples seen many times, so the loss falls
     * within the step cap (the trainer's cosine schedule over the cap takes it down to a tenth).
     */
    static final double LR = 1e-2;
    /**
     * How long one stage's training may take before the demo gives up: far more than the minute it takes on 2 idle
     * cores, because libtorch's threads slow down many times over when other processes hold the cores.
     */
    static final Duration TIMEOUT = Duration.ofMinutes(15);
    /** Passes over the batch topic: more than the step cap ever needs; the cap ends the run. */
    static final int PASSES = 1000;

    private DemoTraining() {
    }

    /** Trains the chosen stages that can be trained, in stage order; returns each one's summary line. */
    static Map<Stage, String> run(LocalSystem system, List<Stage> stages, long steps, double lr, Duration timeout, PrintStream err) {
        Map<Stage, String> lines = new EnumMap<>(Stage.class);
        Path pretrained = null;
        for (Stage stage : stages) {
            if (!TRAINED.contains(stage)) {
                continue;
            }
            Path dir = system.runDir().resolve("checkpoints").resolve(stage.id());
            TrainerOptions trainer = new TrainerOptions(stage, dir).model(MODEL).bounds(steps, PASSES, null)
                    .set("lr", lr).set("checkpoint-every-steps", steps).set("progress-every-steps", Math.max(1, steps / 10));
            if (stage == Stage.SFT && pretrained != null) {
                trainer.init(pretrained);
            }
            err.printf(Locale.ROOT, "millrace demo: training %s on the %s batches for %d steps%s%n", MODEL, stage.id(), steps,
                    trainer.initDir().map(p -> ", starting from " + p).orElse(""));
            long t0 = System.nanoTime();
            system.startTrainer(trainer, Map.of());
            awaitEchoingProgress(system, stage, timeout, err);
            TrainingSummary summary;
            try {
                summary = TrainingSummary.read(dir.resolve(StepLog.FILE));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the " + stage.id() + " trainer's step log", e);
            }
            Path newest = newestCheckpoint(dir);
            err.printf(Locale.ROOT, "millrace demo: %s trained %d steps in %.0f s, loss %.4f -> %.4f; checkpoint %s%n", stage.id(),
                    summary.steps(), (System.nanoTime() - t0) / 1e9, summary.firstLoss(), summary.lastLoss(), newest);
            lines.put(stage, summary.line(stage));
            if (stage == Stage.PRETRAIN) {
                pretrained = newest;
            }
        }
        return lines;
    }

    /** Waits for the bounded trainer to end, copying its progress lines from its log to {@code err}. */
    private static void awaitEchoingProgress(LocalSystem system, Stage stage, Duration timeout, PrintStream err) {
        ManagedProcess process = system.trainer(stage).process();
        String marker = "trainer " + stage.id() + ":";
        long[] position = {0};
        Runnable echo = () -> newLines(process.log(), position).stream().filter(l -> l.startsWith(marker))
                .forEach(l -> err.println("millrace demo:   " + l));
        try {
            system.awaitTrainer(stage, timeout, echo);
        } finally {
            echo.run();
        }
    }

    /** The whole lines appended to {@code log} since {@code position[0]}, which moves past them. */
    static List<String> newLines(Path log, long[] position) {
        List<String> lines = new ArrayList<>();
        if (!Files.exists(log)) {
            return lines;
        }
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            if (file.length() <= position[0]) {
                return lines;
            }
            byte[] bytes = new byte[(int) Math.min(file.length() - position[0], 1 << 20)];
            file.seek(position[0]);
            file.readFully(bytes);
            int start = 0;
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '\n') {
                    lines.add(new String(bytes, start, i - start, StandardCharsets.UTF_8).stripTrailing());
                    start = i + 1;
                }
            }
            position[0] += start;
        } catch (IOException e) {
            // progress only: the log is read again on the next call
        }
        return lines;
    }

    private static Path newestCheckpoint(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("step-") && Files.isDirectory(p)).max(Path::compareTo)
                    .orElseThrow(() -> new IllegalStateException("the trainer wrote no checkpoint in " + dir));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
