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
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The demo's training, after the batches are through: the trainer service trains {@code tiny} on the pretrain
 * batches, then SFT from the pretrain checkpoint, then DPO from the SFT checkpoint (which is also DPO's frozen
 * reference); then the teacher service answers the distill prompts with the DPO checkpoint ({@link DemoTeacher}) and
 * the student, from the SFT checkpoint, trains on the distill batches (the sample's answered records and the
 * teacher's answers; sequence-level distillation). Each trainer reads its batch topic over as many passes as its step
 * cap needs. Checkpoints stay in the run
 * directory ({@code checkpoints/<stage>}); their names go to standard error; each stage's losses become a summary
 * line ({@link TrainingSummary}).
 */
final class DemoTraining {
    /** The stages the demo trains. */
    static final Set<Stage> TRAINED = EnumSet.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL);
    static final String MODEL = "tiny";
    /**
     * The default peak rate: high, for a tiny model on a few hundred examples seen many times, so the loss falls
     * within the step cap (the trainer's cosine schedule over the cap takes it down to a tenth).
     */
    static final double LR = 1e-2;
    /**
     * DPO's peak rate: a tenth of the others'. DPO moves a trained policy away from its reference; at SFT's rate the
     * tiny policy's log-probs collapse within a few steps (both sides fall, the loss with them, and the model is lost).
     */
    static final double DPO_LR_SHARE = 0.1;
    /**
     * DPO's step cap as a share of the others': one DPO step costs about three SFT steps (chosen and rejected rows
     * through the policy with gradients, and through the frozen reference), and the sample's pairs are few.
     */
    static final int DPO_STEPS_DIVISOR = 8;
    /**
     * How long one stage's training may take before the demo gives up: far more than the minute it takes on 2 idle
     * cores, because libtorch's threads slow down many times over when other processes hold the cores.
     */
    static final Duration TIMEOUT = Duration.ofMinutes(15);
    /** Passes over the batch topic: more than the step cap ever needs; the cap ends the run. */
    static final int PASSES = 1000;

    private DemoTraining() {
    }

    /** Whether any of the chosen stages is trained: DPO only with SFT before it (its start and reference). */
    static boolean trainsAny(List<Stage> stages) {
        return stages.stream().anyMatch(s -> TRAINED.contains(s) && (s != Stage.DPO || stages.contains(Stage.SFT)));
    }

    /** Whether the teacher answers the distill prompts: with distill, when a DPO or SFT checkpoint is trained first. */
    static boolean teaches(List<Stage> stages) {
        return stages.contains(Stage.DISTILL) && stages.contains(Stage.SFT);
    }

    /** Trains the chosen stages that can be trained, in stage order; returns each one's summary line. */
    static Map<Stage, String> run(LocalSystem system, List<Stage> stages, long steps, double lr, Duration timeout, PrintStream err) {
        Map<Stage, String> lines = new EnumMap<>(Stage.class);
        Map<Stage, Path> newest = new EnumMap<>(Stage.class);
        for (Stage stage : stages) {
            if (!TRAINED.contains(stage)) {
                continue;
            }
            Optional<Path> init = initOf(stage, newest);
            if (stage == Stage.DPO && init.isEmpty()) {
                err.println("millrace demo: dpo is not trained: DPO starts from an SFT checkpoint (add sft to --stages)");
                continue;
            }
            if (stage == Stage.DISTILL) {
                Optional<Path> teacher = Optional.ofNullable(newest.getOrDefault(Stage.DPO, newest.get(Stage.SFT)));
                teacher.ifPresentOrElse(t -> DemoTeacher.answerPrompts(system, t, timeout, err), () -> err.println(
                        "millrace demo: no teacher: the teacher answers with the DPO (or SFT) checkpoint (add sft, and dpo, to --stages); "
                                + "the student trains on the sample's answered records only"));
            }
            long stageSteps = stepsOf(stage, steps);
            double stageLr = stage == Stage.DPO ? lr * DPO_LR_SHARE : lr;
            Path dir = system.runDir().resolve("checkpoints").resolve(stage.id());
            TrainerOptions trainer = new TrainerOptions(stage, dir).model(MODEL).bounds(stageSteps, PASSES, null)
                    .set("lr", stageLr).set("checkpoint-every-steps", stageSteps).set("progress-every-steps", Math.max(1, stageSteps / 10));
            init.ifPresent(trainer::init);
            err.printf(Locale.ROOT, "millrace demo: training %s on the %s batches for %d steps%s%n", MODEL, stage.id(), stageSteps,
                    trainer.initDir().map(p -> ", starting from " + p + (stage == Stage.DPO ? " (also the frozen reference)" : "")).orElse(""));
            long t0 = System.nanoTime();
            system.startTrainer(trainer, Map.of());
            awaitEchoingProgress(system, stage, timeout, err);
            TrainingSummary summary;
            try {
                summary = TrainingSummary.read(dir.resolve(StepLog.FILE));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the " + stage.id() + " trainer's step log", e);
            }
            Path checkpoint = newestCheckpoint(dir);
            err.printf(Locale.ROOT, "millrace demo: %s trained %d steps in %.0f s, loss %.4f -> %.4f; checkpoint %s%n", stage.id(),
                    summary.steps(), (System.nanoTime() - t0) / 1e9, summary.firstLoss(), summary.lastLoss(), checkpoint);
            lines.put(stage, summary.line(stage));
            newest.put(stage, checkpoint);
        }
        return lines;
    }

    /**
     * The steps a stage trains for the demo's {@code --train-steps}: DPO a share of them ({@link #DPO_STEPS_DIVISOR}), the
     * distilled student half (it starts from SFT's checkpoint on a smaller topic), pretrain and SFT all.
     */
    static long stepsOf(Stage stage, long steps) {
        return switch (stage) {
            case DPO -> Math.max(1, steps / DPO_STEPS_DIVISOR);
            case DISTILL -> Math.max(1, steps / 2);
            default -> steps;
        };
    }

    /** Where a stage starts, as MiniMind's stages chain: SFT from pretrain, DPO and the distilled student from SFT; else a fresh model. */
    static Optional<Path> initOf(Stage stage, Map<Stage, Path> trained) {
        return switch (stage) {
            case SFT -> Optional.ofNullable(trained.get(Stage.PRETRAIN));
            case DPO, DISTILL -> Optional.ofNullable(trained.get(Stage.SFT));
            default -> Optional.empty();
        };
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
