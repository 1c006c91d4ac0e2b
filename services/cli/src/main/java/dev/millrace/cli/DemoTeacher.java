package dev.millrace.cli;

import dev.millrace.cli.local.LocalSystem;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.cli.local.TeacherOptions;
import dev.millrace.core.record.Stage;
import dev.millrace.training.checkpoint.CheckpointHash;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo's teacher step, before the student's distillation: the teacher service ({@code services/teacher}) answers
 * the distill prompts on {@code distill.prompts} with a trained checkpoint of this run (greedy, closing an answer that
 * reaches {@link #MAX_NEW_TOKENS} with the end-of-turn token: a tiny teacher rarely stops by itself), and the demo
 * waits until every prompt is answered (or dead-lettered by the teacher) and every answer has come through the
 * pipeline into a distill batch row (or a downstream dead letter).
 */
final class DemoTeacher {
    /** Long enough for a sentence, short enough that twelve answers take seconds on a CPU. */
    static final int MAX_NEW_TOKENS = 64;

    private DemoTeacher() {
    }

    /** Starts the teacher on {@code checkpoint}, waits for its answers to be batched, and returns how many there are. */
    static long answerPrompts(LocalSystem system, Path checkpoint, Duration timeout, PrintStream err) {
        String teacherId;
        try {
            teacherId = CheckpointHash.of(checkpoint);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the teacher checkpoint " + checkpoint, e);
        }
        err.printf(Locale.ROOT, "millrace demo: the teacher answers the distill prompts with %s (teacher id %s, greedy, at most %d new tokens)%n",
                checkpoint, teacherId.substring(0, 12), MAX_NEW_TOKENS);
        long t0 = System.nanoTime();
        system.startTeacher(new TeacherOptions(checkpoint).maxNewTokens(MAX_NEW_TOKENS).onMaxNewTokens("close"), Map.of());
        String raw = system.topics().raw(Stage.DISTILL);
        String batches = system.topics().batches(Stage.DISTILL);
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastProgress = "";
        try (PipelineOutput output = new PipelineOutput(system.bootstrapServers(), List.of(batches), system.topics().dlq(),
                system.topics().distillPrompts(), List.of(raw))) {
            while (true) {
                output.poll(Duration.ofMillis(500));
                TeacherAnswers answers = TeacherAnswers.of(teacherId, output.prompts().stream().map(PipelineOutput.Read::value).toList(),
                        output.records(raw).stream().map(PipelineOutput.Read::value).toList(),
                        output.batches(batches).stream().map(PipelineOutput.Read::value).toList(),
                        output.deadLetters().stream().map(PipelineOutput.Read::value).toList());
                if (answers.allAnswered() && answers.allBatched()) {
                    err.printf(Locale.ROOT, "millrace demo: the teacher answered %d of %d prompts in %.0f s (%d dead letters); every answer is in a distill batch%n",
                            answers.answerIds().size(), answers.prompts(), (System.nanoTime() - t0) / 1e9, answers.teacherDeadLetters());
                    return answers.answerIds().size();
                }
                String progress = String.format(Locale.ROOT, "millrace demo:   teacher: %d of %d prompts answered, %d answers batched",
                        answers.answerIds().size() + answers.teacherDeadLetters(), answers.prompts(), answers.batchedAnswerIds().size());
                if (!progress.equals(lastProgress)) {
                    err.println(progress);
                    lastProgress = progress;
                }
                List<String> dead = system.deadServices();
                if (!dead.isEmpty()) {
                    throw new IllegalStateException("a process of the local run exited: " + String.join("; ", dead));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(String.format(Locale.ROOT, "the teacher's answers did not come through within %d s: %s; "
                            + "see the logs in %s", timeout.toSeconds(), progress.replace("millrace demo:   ", ""), system.logDir()));
                }
            }
        }
    }
}
