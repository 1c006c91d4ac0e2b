package dev.millrace.training.run;

import dev.millrace.training.dpo.DpoLoss;
import java.time.Duration;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * The progress line a trainer prints every few steps, over the steps since the previous line (the window):
 * {@code trainer <stage>: step <n>[/<max>] loss <x> lr <x> tokens/s <x> data-wait <pct>% [eval_loss <x>] [eta <d>]}, and for DPO
 * {@link #dpoPart} after it, for logit-level distillation {@link #distillPart}.
 * The loss is the mean of the window's step losses, the learning rate the last step's, tokens/s the window's
 * trained tokens over its wall time, data-wait the share of that time spent waiting for batches, eval_loss the
 * last evaluation within the window (none: left out), the ETA the steps left to {@code max} at the window's
 * pace (only when a step limit is set). No clock is read here: every time comes from the {@link StepReport}s.
 */
public final class Progress {
    private final String stage;
    private final long maxSteps;
    private long step;
    private int steps;
    private double lossSum;
    private double lr;
    private long tokens;
    private double seconds;
    private double waitSeconds;
    private OptionalDouble evalLoss = OptionalDouble.empty();
    /** DPO: the window's pairs summed (null for the other stages, or before a DPO step). */
    private DpoLoss.Totals pairs;
    /** Logit-level distillation: the window's steps' cross-entropy and KL summed, and how many steps had them. */
    private double ceSum;
    private double klSum;
    private int distillSteps;

    /** {@code maxSteps}: the run's step limit, 0 when it has none (no ETA). */
    public Progress(String stage, long maxSteps) {
        this.stage = stage;
        this.maxSteps = maxSteps;
    }

    /** Adds a step to the window. */
    public void add(StepReport report) {
        step = report.step();
        steps++;
        lossSum += report.result().loss();
        lr = report.result().lr();
        tokens += report.result().trainedTokens();
        seconds += report.seconds();
        waitSeconds += report.dataWaitSeconds();
        if (report.evalLoss().isPresent()) {
            evalLoss = report.evalLoss();
        }
        if (report.dpo() != null) {
            pairs = pairs == null ? report.dpo() : pairs.plus(report.dpo());
        }
        if (report.result().distill() != null) {
            ceSum += report.result().distill().ce();
            klSum += report.result().distill().kl();
            distillSteps++;
        }
    }

    /** Steps in the window. */
    public int steps() {
        return steps;
    }

    /** The line over the window, which then starts again; empty string when no step was added. */
    public String line() {
        if (steps == 0) {
            return "";
        }
        double tokensPerSecond = seconds > 0 ? tokens / seconds : Double.NaN;
        double waitShare = seconds > 0 ? waitSeconds / seconds : 0;
        Duration eta = null;
        if (maxSteps > 0) {
            long left = Math.max(0, maxSteps - step);
            eta = Duration.ofMillis(Math.round(left * seconds / steps * 1000));
        }
        String line = format(stage, step, maxSteps, lossSum / steps, lr, tokensPerSecond, waitShare, evalLoss, eta);
        if (pairs != null && pairs.pairs() > 0) {
            line += dpoPart(pairs);
        }
        if (distillSteps > 0) {
            line += distillPart(ceSum / distillSteps, klSum / distillSteps);
        }
        pairs = null;
        ceSum = 0;
        klSum = 0;
        distillSteps = 0;
        steps = 0;
        lossSum = 0;
        tokens = 0;
        seconds = 0;
        waitSeconds = 0;
        evalLoss = OptionalDouble.empty();
        return line;
    }

    /** One progress line; {@code maxSteps} 0: no {@code /max}; {@code eta} null: none. */
    public static String format(String stage, long step, long maxSteps, double loss, double lr, double tokensPerSecond, double dataWaitShare,
            OptionalDouble evalLoss, Duration eta) {
        StringBuilder line = new StringBuilder("trainer ").append(stage).append(": step ").append(step);
        if (maxSteps > 0) {
            line.append('/').append(maxSteps);
        }
        line.append(String.format(Locale.ROOT, " loss %.4f lr %.3g tokens/s %.0f data-wait %.0f%%", loss, lr, tokensPerSecond, 100 * dataWaitShare));
        evalLoss.ifPresent(x -> line.append(String.format(Locale.ROOT, " eval_loss %.4f", x)));
        if (eta != null) {
            line.append(" eta ").append(duration(eta));
        }
        return line.toString();
    }

    /**
     * The DPO part of a line, over the window's real pairs: {@code  reward_acc 0.75 margin 0.0421 logp chosen -41.20 rejected -47.90}
     * (accuracy: the share of pairs whose chosen reward is above the rejected one; margin: the mean reward
     * margin {@code β·((πc-refc)-(πr-refr))}; the policy's mean log-probs of each side).
     */
    public static String dpoPart(DpoLoss.Totals pairs) {
        return String.format(Locale.ROOT, " reward_acc %.2f margin %.4f logp chosen %.2f rejected %.2f", pairs.accuracy(), pairs.meanMargin(),
                pairs.meanChosenLogProb(), pairs.meanRejectedLogProb());
    }

    /**
     * The logit-level distillation part of a line, the means of the window's steps: {@code  ce 3.2100 kl 0.4120} (the
     * cross-entropy against the targets and the KL divergence from the teacher at τ; the loss is {@code α·ce + (1-α)·τ²·kl}).
     */
    public static String distillPart(double ce, double kl) {
        return String.format(Locale.ROOT, " ce %.4f kl %.4f", ce, kl);
    }

    /** {@code 45s}, {@code 3m07s}, {@code 2h05m}: as precise as a person reading an ETA needs. */
    public static String duration(Duration d) {
        long s = Math.max(0, Math.round(d.toMillis() / 1000.0));
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
