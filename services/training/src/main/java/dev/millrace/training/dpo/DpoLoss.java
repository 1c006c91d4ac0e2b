package dev.millrace.training.dpo;

import ai.djl.ndarray.NDArray;
import dev.millrace.training.train.Loss;
import java.util.Locale;

/**
 * The DPO loss as pure functions. Pair i's loss is {@code -logsigmoid(β·((πc-πr)-(refc-refr)))}, with π and
 * ref the policy's and the reference's log-probs of a side's trained tokens. Filler pairs weigh 0; a step's
 * loss is {@code Σ wᵢ·lossᵢ / Σ wᵢ} over every pair of every batch in it, so it is summed here and divided once
 * by the step's real pairs (the mean over real pairs, whichever batch they came in).
 */
public final class DpoLoss {
    /** MiniMind's {@code train_dpo.py} β. */
    public static final double DEFAULT_BETA = 0.1;

    private DpoLoss() {
    }

    /** How a side's token log-probs become one number. */
    public enum LogProb {
        /** Σ over trained tokens (MiniMind's {@code train_dpo.py}, the default). */
        SUM,
        /** Σ / trained tokens: a long answer is not favoured for its length. */
        MEAN;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static LogProb parse(String value) {
            for (LogProb p : values()) {
                if (p.id().equals(value)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("DPO log-prob must be sum or mean, got '" + value + "'");
        }
    }

    /**
     * Each row's log-prob of its trained tokens, {@code [R]} from logits {@code [R, T, V]}, targets and weights
     * {@code [R, T]}. {@code MEAN} of a row without a trained token is 0 (its pair weighs 0 anyway).
     */
    public static NDArray sequenceLogProbs(NDArray logits, NDArray targets, NDArray weights, LogProb how) {
        NDArray sum = Loss.crossEntropy(logits, targets).neg().mul(weights).sum(new int[] {1});
        return how == LogProb.SUM ? sum : sum.div(weights.sum(new int[] {1}).maximum(1f));
    }

    /** Each pair's loss, {@code [P]}: {@code -logsigmoid(x) = max(-x, 0) + log(1 + exp(-|x|))}, stable for any x. */
    public static NDArray pairLosses(NDArray policyChosen, NDArray policyRejected, NDArray refChosen, NDArray refRejected, double beta) {
        NDArray x = policyChosen.sub(policyRejected).sub(refChosen.sub(refRejected)).mul((float) beta);
        return x.neg().maximum(0f).add(x.abs().neg().exp().add(1f).log());
    }

    /** {@code Σ wᵢ·lossᵢ}, a scalar: filler pairs add nothing. */
    public static NDArray weightedSum(NDArray pairLosses, NDArray pairWeights) {
        return pairLosses.mul(pairWeights).sum();
    }

    /** {@code -logsigmoid(x)} in double, as {@link #pairLosses} computes it. */
    public static double pairLoss(double x) {
        return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /**
     * What a batch's (or a step's) pairs say, summed over real pairs: divide by {@link #pairs} for means.
     * A side's reward is {@code β·(π - ref)}; the margin is chosen's reward minus rejected's; a pair is
     * accurate when its margin is above 0 (a tie is not).
     */
    public record Totals(double loss, double margin, double accurate, double chosenLogProb, double rejectedLogProb, long pairs) {
        public static final Totals NONE = new Totals(0, 0, 0, 0, 0, 0);

        /** Sums the real pairs of a batch from each pair's four log-probs. */
        public static Totals of(float[] policyChosen, float[] policyRejected, float[] refChosen, float[] refRejected,
                                float[] pairWeights, double beta) {
            double loss = 0, margin = 0, accurate = 0, chosen = 0, rejected = 0;
            long pairs = 0;
            for (int i = 0; i < pairWeights.length; i++) {
                if (pairWeights[i] == 0) {
                    continue;
                }
                double m = beta * (((double) policyChosen[i] - refChosen[i]) - ((double) policyRejected[i] - refRejected[i]));
                loss += pairLoss(m);
                margin += m;
                accurate += m > 0 ? 1 : 0;
                chosen += policyChosen[i];
                rejected += policyRejected[i];
                pairs++;
            }
            return new Totals(loss, margin, accurate, chosen, rejected, pairs);
        }

        public Totals plus(Totals o) {
            return new Totals(loss + o.loss, margin + o.margin, accurate + o.accurate, chosenLogProb + o.chosenLogProb,
                    rejectedLogProb + o.rejectedLogProb, pairs + o.pairs);
        }

        public double meanLoss() {
            return loss / pairs;
        }

        public double meanMargin() {
            return margin / pairs;
        }

        public double accuracy() {
            return accurate / pairs;
        }

        public double meanChosenLogProb() {
            return chosenLogProb / pairs;
        }

        public double meanRejectedLogProb() {
            return rejectedLogProb / pairs;
        }
    }
}
