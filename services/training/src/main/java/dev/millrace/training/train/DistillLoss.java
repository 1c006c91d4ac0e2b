package dev.millrace.training.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * Logit-level distillation (MiniMind's {@code train_distillation.py}) as pure functions. A trained position's
 * loss is {@code α·ce + (1-α)·τ²·kl} with {@code kl = KL(softmax(t/τ) ‖ softmax(s/τ))}, t the frozen teacher's
 * logits and s the student's. Like {@link Loss}, it is summed here over the trained positions (weighted by the
 * shifted mask) and divided once by the optimiser step's {@code Σ m}, so accumulation stays exact.
 */
public final class DistillLoss {
    /** MiniMind's {@code train_distillation.py} argparse default of α (the weight of the cross-entropy). */
    public static final double DEFAULT_ALPHA = 0.5;
    /** MiniMind's {@code train_distillation.py} argparse default of τ. */
    public static final double DEFAULT_TEMPERATURE = 1.5;

    private DistillLoss() {
    }

    /** α in [0, 1] (1: plain cross-entropy, 0: the teacher's distribution only) and τ above 0. */
    public record Settings(double alpha, double temperature) {
        public Settings {
            if (!(alpha >= 0 && alpha <= 1)) {
                throw new IllegalArgumentException("distillation alpha must be a number from 0 to 1, got " + alpha);
            }
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("distillation temperature must be a positive number, got " + temperature);
            }
        }

        /** MiniMind's {@code train_distillation.py}: α 0.5, τ 1.5. */
        public static Settings defaults() {
            return new Settings(DEFAULT_ALPHA, DEFAULT_TEMPERATURE);
        }
    }

    /**
     * What a step (or a batch) trained on, each a mean over its trained tokens: the cross-entropy against the
     * targets and the KL divergence from the teacher at τ (without the τ² factor); the step's loss is
     * {@code α·ce + (1-α)·τ²·kl}.
     */
    public record Parts(double ce, double kl) {
    }

    /**
     * The teacher's logits cut to the student's vocabulary, {@code [B, T, V]}: a teacher with more rows (a larger
     * embedding over the same tokenizer) keeps the first V, as MiniMind does.
     */
    public static NDArray toStudentVocabulary(NDArray teacherLogits, long studentVocab) {
        long teacherVocab = teacherLogits.getShape().get(2);
        if (teacherVocab < studentVocab) {
            throw new IllegalArgumentException("the teacher's logits have " + teacherVocab + " ids, the student's " + studentVocab);
        }
        return teacherVocab == studentVocab ? teacherLogits : teacherLogits.get(new NDIndex(":, :, :" + studentVocab));
    }

    /**
     * {@code KL(softmax(t/τ) ‖ softmax(s/τ)) = Σ_v p_t(v)·(log p_t(v) - log p_s(v))} at each position, {@code [B, T]}
     * from logits {@code [B, T, V]}. The student's logits come first, so the result lives in their manager.
     */
    public static NDArray kl(NDArray studentLogits, NDArray teacherLogits, double temperature) {
        NDArray studentLogProbs = studentLogits.div((float) temperature).logSoftmax(-1);
        NDArray teacherLogProbs = teacherLogits.div((float) temperature).logSoftmax(-1);
        return studentLogProbs.sub(teacherLogProbs).neg().mul(teacherLogProbs.exp()).sum(new int[] {-1});
    }

    /** {@code Σ m·(α·ce + (1-α)·τ²·kl)}, a scalar, from per-position {@code ce}, {@code kl} and weights {@code [B, T]}. */
    public static NDArray weightedSum(NDArray ce, NDArray kl, NDArray weights, Settings settings) {
        double t = settings.temperature();
        NDArray perPosition = ce.mul((float) settings.alpha()).add(kl.mul((float) ((1 - settings.alpha()) * t * t)));
        return perPosition.mul(weights).sum();
    }
}
