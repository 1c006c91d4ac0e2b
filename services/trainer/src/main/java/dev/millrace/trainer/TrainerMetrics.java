package dev.millrace.trainer;

import dev.millrace.core.record.Stage;
import dev.millrace.training.run.StepReport;
import dev.millrace.training.run.TrainingRun;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The trainer's metrics, {@code millrace_trainer_*} at /q/metrics, tagged with the stage: fed by the run's
 * step reports on the training thread, read by the scrape on another (hence the atomics and volatiles).
 */
final class TrainerMetrics {
    private final AtomicLong steps = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicLong skippedBatches = new AtomicLong();
    private volatile double loss = Double.NaN;
    private volatile double evalLoss = Double.NaN;
    private volatile double lr = Double.NaN;
    private volatile double gradNorm = Double.NaN;
    private volatile int pass;
    /** DPO: the last step's means over its real pairs (NaN before the first DPO step). */
    private volatile double dpoRewardMargin = Double.NaN;
    private volatile double dpoRewardAccuracy = Double.NaN;
    private volatile double dpoChosenLogProb = Double.NaN;
    private volatile double dpoRejectedLogProb = Double.NaN;
    /** Logit-level distillation: the last step's cross-entropy and KL (NaN before the first step). */
    private volatile double distillCe = Double.NaN;
    private volatile double distillKl = Double.NaN;
    private final Timer stepTime;
    private final Counter dataWait;
    private final TrainingRun run;

    /** Registers the meters of {@code run}, whose counts start where it resumed. */
    TrainerMetrics(MeterRegistry registry, TrainingRun run) {
        this.run = run;
        steps.set(run.steps());
        tokens.set(run.trainedTokens());
        skippedBatches.set(run.skippedBatches());
        pass = run.pass();
        Tags tags = Tags.of("stage", run.settings().stage().id());
        FunctionCounter.builder("millrace.trainer.steps", steps, AtomicLong::get).tags(tags)
                .description("Optimiser steps taken, resumed ones included").register(registry);
        FunctionCounter.builder("millrace.trainer.tokens", tokens, AtomicLong::get).tags(tags)
                .description("Tokens trained on (positions with a loss weight), resumed ones included").register(registry);
        FunctionCounter.builder("millrace.trainer.skipped.batches", skippedBatches, AtomicLong::get).tags(tags)
                .description("Batches skipped because they train no token, resumed ones included").register(registry);
        Gauge.builder("millrace.trainer.loss", this, m -> m.loss).tags(tags).description("The last step's training loss").register(registry);
        Gauge.builder("millrace.trainer.eval.loss", this, m -> m.evalLoss).tags(tags).description("The eval file's last loss").register(registry);
        Gauge.builder("millrace.trainer.lr", this, m -> m.lr).tags(tags).description("The last step's learning rate").register(registry);
        Gauge.builder("millrace.trainer.grad.norm", this, m -> m.gradNorm).tags(tags)
                .description("The last step's global gradient norm, before clipping").register(registry);
        Gauge.builder("millrace.trainer.pass", this, m -> m.pass).tags(tags).description("The pass over the batch topic (0-based)").register(registry);
        Gauge.builder("millrace.trainer.checkpoint.age", this, TrainerMetrics::checkpointAgeSeconds).tags(tags).baseUnit("seconds")
                .description("Time since the newest checkpoint was written (NaN before the first)").register(registry);
        stepTime = Timer.builder("millrace.trainer.step").tags(tags)
                .description("Wall time per optimiser step: reading, waiting for data, training, evaluating, checkpointing").register(registry);
        dataWait = Counter.builder("millrace.trainer.data.wait").tags(tags).baseUnit("seconds")
                .description("Time spent waiting for batches (from a poll that brought none to the next batch)").register(registry);
        if (run.settings().stage() == Stage.DPO) {
            Gauge.builder("millrace.trainer.dpo.reward.margin", this, m -> m.dpoRewardMargin).tags(tags)
                    .description("The last step's mean reward margin, beta*((chosen-ref)-(rejected-ref)) log-probs, over its real pairs").register(registry);
            Gauge.builder("millrace.trainer.dpo.reward.accuracy", this, m -> m.dpoRewardAccuracy).tags(tags)
                    .description("The last step's share of real pairs whose chosen reward is above the rejected one").register(registry);
            Gauge.builder("millrace.trainer.dpo.chosen.logprob", this, m -> m.dpoChosenLogProb).tags(tags)
                    .description("The last step's mean policy log-prob of the chosen sides").register(registry);
            Gauge.builder("millrace.trainer.dpo.rejected.logprob", this, m -> m.dpoRejectedLogProb).tags(tags)
                    .description("The last step's mean policy log-prob of the rejected sides").register(registry);
        }
        if (run.settings().distillTeacher() != null) {
            Gauge.builder("millrace.trainer.distill.ce", this, m -> m.distillCe).tags(tags)
                    .description("Logit-level distillation: the last step's cross-entropy against the targets, over its trained tokens").register(registry);
            Gauge.builder("millrace.trainer.distill.kl", this, m -> m.distillKl).tags(tags)
                    .description("Logit-level distillation: the last step's KL(teacher || student) at the temperature, over its trained tokens")
                    .register(registry);
        }
    }

    /** After each step, on the training thread. */
    void record(StepReport report) {
        steps.set(report.step());
        tokens.addAndGet(report.result().trainedTokens());
        skippedBatches.set(run.skippedBatches());
        loss = report.result().loss();
        lr = report.result().lr();
        gradNorm = report.result().gradNorm();
        pass = report.pass();
        report.evalLoss().ifPresent(x -> evalLoss = x);
        if (report.dpo() != null && report.dpo().pairs() > 0) {
            dpoRewardMargin = report.dpo().meanMargin();
            dpoRewardAccuracy = report.dpo().accuracy();
            dpoChosenLogProb = report.dpo().meanChosenLogProb();
            dpoRejectedLogProb = report.dpo().meanRejectedLogProb();
        }
        if (report.result().distill() != null) {
            distillCe = report.result().distill().ce();
            distillKl = report.result().distill().kl();
        }
        stepTime.record(Duration.ofNanos(Math.round(report.seconds() * 1e9)));
        dataWait.increment(report.dataWaitSeconds());
    }

    private double checkpointAgeSeconds() {
        return run.lastCheckpointTime().map(t -> Duration.between(t, Instant.now()).toMillis() / 1000.0).orElse(Double.NaN);
    }
}
