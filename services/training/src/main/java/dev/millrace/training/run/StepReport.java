package dev.millrace.training.run;

import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.train.Trainer;
import java.util.OptionalDouble;

/**
 * One optimiser step of a {@link TrainingRun} as its listener, its step log and its progress line see it.
 *
 * @param result what the step did (its number, loss, learning rate, gradient norm, trained tokens, batches)
 * @param pass the pass over the topic it belongs to (0-based)
 * @param seconds wall time since the previous step finished (or since {@link TrainingRun#run()} began, for
 *     its first step): reading and waiting for batches, training, and the previous step's evaluation and checkpoint
 * @param dataWaitSeconds the part of {@code seconds} spent waiting for data: from the first poll that brought no
 *     batch to the arrival of the next batch
 * @param evalLoss the eval file's loss after this step, when it was evaluated at this step
 * @param dpo DPO only: the step's pairs (reward margin, accuracy, log-probs) before the update; null otherwise
 */
public record StepReport(Trainer.StepResult result, int pass, double seconds, double dataWaitSeconds, OptionalDouble evalLoss,
                         DpoLoss.Totals dpo) {
    /** A step of a stage without pairs. */
    public StepReport(Trainer.StepResult result, int pass, double seconds, double dataWaitSeconds, OptionalDouble evalLoss) {
        this(result, pass, seconds, dataWaitSeconds, evalLoss, null);
    }

    public StepReport {
        if (seconds < 0 || dataWaitSeconds < 0) {
            throw new IllegalArgumentException("times cannot be negative: " + seconds + " s, " + dataWaitSeconds + " s waiting");
        }
    }

    public long step() {
        return result.step();
    }
}
