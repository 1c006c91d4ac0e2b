package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.training.run.Progress;
import dev.millrace.training.run.StepReport;
import dev.millrace.training.train.Trainer;
import java.time.Duration;
import java.util.OptionalDouble;
import org.junit.jupiter.api.Test;

/** The progress line over the steps since the previous one: mean loss, last lr, tokens/s, data-wait share, eval loss, ETA. */
class ProgressTest {

    private static StepReport step(long n, double loss, double lr, long tokens, double seconds, double wait, OptionalDouble eval) {
        return new StepReport(new Trainer.StepResult(n, loss, lr, 1.0, tokens, 1), 0, seconds, wait, eval);
    }

    @Test
    void aWindowOfStepsBecomesOneLine() {
        Progress progress = new Progress("pretrain", 100);
        progress.add(step(9, 6.0, 4e-4, 1000, 0.5, 0.25, OptionalDouble.empty()));
        progress.add(step(10, 5.0, 5e-4, 3000, 1.5, 0.25, OptionalDouble.of(5.5)));
        assertThat(progress.steps()).isEqualTo(2);
        // 4000 tokens in 2 s; 0.5 s of the 2 s waiting; 90 steps left at 1 s a step.
        assertThat(progress.line())
                .isEqualTo("trainer pretrain: step 10/100 loss 5.5000 lr 0.000500 tokens/s 2000 data-wait 25% eval_loss 5.5000 eta 1m30s");
        assertThat(progress.steps()).isZero();
        assertThat(progress.line()).isEmpty();

        // The next window starts afresh: no eval in it, so none printed.
        progress.add(step(11, 4.0, 5e-4, 500, 0.25, 0, OptionalDouble.empty()));
        assertThat(progress.line()).isEqualTo("trainer pretrain: step 11/100 loss 4.0000 lr 0.000500 tokens/s 2000 data-wait 0% eta 22s");
    }

    @Test
    void withoutAStepLimitThereIsNoMaximumAndNoEta() {
        Progress progress = new Progress("sft", 0);
        progress.add(step(7, 3.25, 1.5e-5, 300, 3.0, 2.97, OptionalDouble.empty()));
        assertThat(progress.line()).isEqualTo("trainer sft: step 7 loss 3.2500 lr 1.50e-05 tokens/s 100 data-wait 99%");
    }

    @Test
    void theLastStepOfABoundedRunHasNothingLeft() {
        Progress progress = new Progress("sft", 7);
        progress.add(step(7, 3.0, 1e-3, 300, 3.0, 0, OptionalDouble.empty()));
        assertThat(progress.line()).endsWith(" eta 0s");
    }

    @Test
    void durationsAreAsPreciseAsAnEtaNeeds() {
        assertThat(Progress.duration(Duration.ofMillis(400))).isEqualTo("0s");
        assertThat(Progress.duration(Duration.ofSeconds(59))).isEqualTo("59s");
        assertThat(Progress.duration(Duration.ofSeconds(60))).isEqualTo("1m00s");
        assertThat(Progress.duration(Duration.ofSeconds(3599))).isEqualTo("59m59s");
        assertThat(Progress.duration(Duration.ofSeconds(7530))).isEqualTo("2h05m");
        assertThat(Progress.duration(Duration.ofDays(3))).isEqualTo("72h00m");
    }

    @Test
    void aDpoWindowAddsRewardAccuracyMarginAndLogProbsOverItsRealPairs() {
        Progress progress = new Progress("dpo", 0);
        // 3 real pairs, 2 accurate; then 1 real pair, not accurate: 2 of 4.
        dev.millrace.training.dpo.DpoLoss.Totals first = new dev.millrace.training.dpo.DpoLoss.Totals(2.0, 0.3, 2, -120, -150, 3);
        dev.millrace.training.dpo.DpoLoss.Totals second = new dev.millrace.training.dpo.DpoLoss.Totals(0.7, -0.1, 0, -40, -30, 1);
        progress.add(new StepReport(new Trainer.StepResult(1, 0.69, 1e-4, 1.0, 100, 1), 0, 1.0, 0, OptionalDouble.empty(), first));
        progress.add(new StepReport(new Trainer.StepResult(2, 0.71, 1e-4, 1.0, 100, 1), 0, 1.0, 0, OptionalDouble.empty(), second));
        assertThat(progress.line()).isEqualTo("trainer dpo: step 2 loss 0.7000 lr 0.000100 tokens/s 100 data-wait 0% "
                + "reward_acc 0.50 margin 0.0500 logp chosen -40.00 rejected -45.00");
        // The next window has no pairs: no DPO part is carried over.
        progress.add(step(3, 4.0, 1e-4, 100, 1.0, 0, OptionalDouble.empty()));
        assertThat(progress.line()).isEqualTo("trainer pretrain: step 3 loss 4.0000 lr 0.000100 tokens/s 100 data-wait 0%".replace("pretrain", "dpo"));
    }

    @Test
    void aLogitLevelDistillationWindowAddsTheMeansOfItsStepsCrossEntropyAndKl() {
        Progress progress = new Progress("distill", 0);
        progress.add(new StepReport(new Trainer.StepResult(1, 2.0, 1e-4, 1.0, 100, 1, new dev.millrace.training.train.DistillLoss.Parts(3.0, 0.4)),
                0, 1.0, 0, OptionalDouble.empty()));
        progress.add(new StepReport(new Trainer.StepResult(2, 1.0, 1e-4, 1.0, 100, 1, new dev.millrace.training.train.DistillLoss.Parts(2.0, 0.2)),
                0, 1.0, 0, OptionalDouble.empty()));
        assertThat(progress.line()).isEqualTo("trainer distill: step 2 loss 1.5000 lr 0.000100 tokens/s 100 data-wait 0% ce 2.5000 kl 0.3000");
        // A window of steps without a teacher (sequence-level): no ce/kl part.
        progress.add(step(3, 4.0, 1e-4, 100, 1.0, 0, OptionalDouble.empty()));
        assertThat(progress.line()).isEqualTo("trainer distill: step 3 loss 4.0000 lr 0.000100 tokens/s 100 data-wait 0%");
    }
}
