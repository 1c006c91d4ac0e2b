package dev.millrace.cli;

import dev.millrace.core.record.Stage;
import dev.millrace.training.run.StepLog;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A trainer's losses as the demo reports them (docs/cli.md#demo): from its step log
 * ({@code <checkpoint-dir>/steps.jsonl}, one line per optimiser step; a step trained again after a crash
 * appears again and its last line wins), the number of steps and the mean loss over the first and the last
 * 10% of them (at least one step each).
 */
record TrainingSummary(long steps, double firstLoss, double lastLoss) {
    /** The summary of a trainer's step log ({@link StepLog#read}: the last line of each step). */
    static TrainingSummary read(Path stepLog) throws IOException {
        return of(StepLog.read(stepLog).values().stream().map(StepLog.Line::loss).toList());
    }

    /** @throws IllegalArgumentException when there are no steps */
    static TrainingSummary of(List<Double> losses) {
        if (losses.isEmpty()) {
            throw new IllegalArgumentException("no training steps");
        }
        int n = losses.size();
        int tenth = Math.max(1, (n + 9) / 10);
        return new TrainingSummary(n, mean(losses.subList(0, tenth)), mean(losses.subList(n - tenth, n)));
    }

    private static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    /** {@code stage=<s> steps=<n> first_loss=<x> last_loss=<y>}. */
    String line(Stage stage) {
        return String.format(Locale.ROOT, "stage=%s steps=%d first_loss=%.4f last_loss=%.4f", stage.id(), steps, firstLoss, lastLoss);
    }
}
