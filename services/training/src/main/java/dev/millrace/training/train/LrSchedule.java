package dev.millrace.training.train;

/** The learning rate of each optimiser step (0-based). */
@FunctionalInterface
public interface LrSchedule {
    double at(long step);

    /**
     * MiniMind's schedule when the number of steps is known: {@code lr/10 + 0.5·lr·(1 + cos(π·step/total))},
     * from 1.1·lr down to lr/10 (its {@code get_lr}, copied as it is, including the start above lr).
     */
    static LrSchedule cosine(double lr, long totalSteps) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("a cosine schedule needs a total of at least 1 step, got " + totalSteps);
        }
        return step -> lr / 10 + 0.5 * lr * (1 + Math.cos(Math.PI * Math.min(step, totalSteps) / totalSteps));
    }

    /** Continuous training, where no total is known: {@code lr}, reached linearly over the first {@code warmupSteps}. */
    static LrSchedule constant(double lr, long warmupSteps) {
        return step -> warmupSteps > 0 && step < warmupSteps ? lr * (step + 1) / warmupSteps : lr;
    }
}
