package dev.millrace.training.dpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.GradClip;
import dev.millrace.training.train.NoGrad;
import dev.millrace.training.train.Trainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * DPO training, one optimiser step at a time, as {@link Trainer} does for cross-entropy: {@code accumulation}
 * batches with at least one real pair make a step; its loss is the mean pair loss over all their real pairs.
 * The reference is a frozen model (the policy's starting weights): its log-probs are computed with grad mode
 * off, once per pair, before the policy's forward pass, and it is never updated.
 */
public final class DpoTrainer {
    /** β and how a side's log-probs are summed. */
    public record Settings(double beta, DpoLoss.LogProb logProb) {
        public Settings {
            if (!(beta > 0) || Double.isInfinite(beta)) {
                throw new IllegalArgumentException("DPO beta must be a positive number, got " + beta);
            }
        }

        /** MiniMind's {@code train_dpo.py}: β 0.1, summed log-probs. */
        public static Settings defaults() {
            return new Settings(DpoLoss.DEFAULT_BETA, DpoLoss.LogProb.SUM);
        }
    }

    /**
     * What one optimiser step did.
     *
     * @param loss mean pair loss over the step's real pairs, before the update
     * @param totals the pairs' sums (margin, accuracy, log-probs) before the update
     * @param trainedTokens Σ m of both sides of the real pairs
     */
    public record StepResult(long step, double loss, double lr, double gradNorm, DpoLoss.Totals totals, long trainedTokens, int batches) {
    }

    private final MiniMind policy;
    private final MiniMind reference;
    private final AdamW optimizer;
    private final Trainer.Settings settings;
    private final Settings dpo;
    private final List<DpoBatch> pending = new ArrayList<>();
    private long steps;
    private long skippedBatches;

    public DpoTrainer(MiniMind policy, MiniMind reference, AdamW optimizer, Trainer.Settings settings, Settings dpo, long steps) {
        if (!policy.config().equals(reference.config())) {
            throw new IllegalArgumentException("the DPO reference's model config " + reference.config()
                    + " differs from the policy's " + policy.config());
        }
        this.policy = policy;
        this.reference = reference;
        this.optimizer = optimizer;
        this.settings = settings;
        this.dpo = dpo;
        this.steps = steps;
    }

    /** Adds a batch; returns the step it completes, if any. A batch of filler pairs only is skipped and counted. */
    public Optional<StepResult> add(DpoBatch batch) {
        batch.sides().checkFits(policy.config());
        if (batch.realPairs() == 0) {
            skippedBatches++;
            return Optional.empty();
        }
        pending.add(batch);
        if (pending.size() < settings.accumulation()) {
            return Optional.empty();
        }
        StepResult result = step(List.copyOf(pending));
        pending.clear();
        return Optional.of(result);
    }

    /** One optimiser step over {@code batches} together (each must hold a real pair). */
    public StepResult step(List<DpoBatch> batches) {
        int pairs = batches.stream().mapToInt(DpoBatch::realPairs).sum();
        if (pairs == 0) {
            throw new IllegalArgumentException("no real pair in the step's batches");
        }
        List<float[]> referenceLogProbs = new ArrayList<>();
        for (DpoBatch batch : batches) {
            referenceLogProbs.add(referenceLogProbs(batch));
        }
        double loss = 0;
        DpoLoss.Totals totals = DpoLoss.Totals.NONE;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            for (int b = 0; b < batches.size(); b++) {
                DpoBatch batch = batches.get(b);
                try (NDManager scratch = policy.manager().newSubManager()) {
                    NDArray policyLogProbs = logProbs(policy, scratch, batch);
                    NDArray weighted = weightedLoss(scratch, batch, policyLogProbs, referenceLogProbs.get(b));
                    NDArray part = weighted.div((float) pairs);
                    collector.backward(part);
                    loss += part.getFloat();
                    totals = totals.plus(totals(batch, policyLogProbs.toFloatArray(), referenceLogProbs.get(b)));
                }
            }
        }
        double gradNorm;
        try (NDScope scope = new NDScope()) { // the gradient handles are made in the weights' long-lived manager
            List<NDArray> grads = new ArrayList<>();
            policy.weights().values().forEach(w -> grads.add(w.getGradient()));
            gradNorm = GradClip.globalNorm(grads);
        }
        double lr = settings.schedule().at(steps);
        optimizer.update(policy.weights(), lr, GradClip.scale(gradNorm, settings.clipNorm()));
        steps++;
        long trainedTokens = batches.stream().mapToLong(DpoBatch::trainedTokens).sum();
        return new StepResult(steps, loss, lr, gradNorm, totals, trainedTokens, batches.size());
    }

    /** The pairs' sums under the current weights; nothing is learned. */
    public DpoLoss.Totals evaluate(DpoBatch batch) {
        return totals(batch, policyLogProbs(batch), referenceLogProbs(batch));
    }

    /** The policy's log-probs of each side, {@code [2P]} (chosen, then rejected), under the current weights; nothing is learned. */
    public float[] policyLogProbs(DpoBatch batch) {
        try (NoGrad noGrad = NoGrad.enter(); NDManager scratch = policy.manager().newSubManager()) {
            return logProbs(policy, scratch, batch).toFloatArray();
        }
    }

    /** The reference's log-probs of each side, {@code [2P]}, with grad mode off: the reference never learns. */
    public float[] referenceLogProbs(DpoBatch batch) {
        try (NoGrad noGrad = NoGrad.enter(); NDManager scratch = reference.manager().newSubManager()) {
            return logProbs(reference, scratch, batch).toFloatArray();
        }
    }

    private NDArray logProbs(MiniMind model, NDManager scratch, DpoBatch batch) {
        Shape shape = new Shape(batch.sides().rows(), batch.sides().length());
        NDArray logits = model.forward(scratch, batch.sides().input());
        return DpoLoss.sequenceLogProbs(logits, scratch.create(batch.sides().targets(), shape),
                scratch.create(batch.sides().weights(), shape), dpo.logProb());
    }

    private NDArray weightedLoss(NDManager scratch, DpoBatch batch, NDArray policyLogProbs, float[] referenceLogProbs) {
        int p = batch.pairs();
        NDArray ref = scratch.create(referenceLogProbs);
        NDArray losses = DpoLoss.pairLosses(policyLogProbs.get(new NDIndex("0:" + p)), policyLogProbs.get(new NDIndex(p + ":")),
                ref.get(new NDIndex("0:" + p)), ref.get(new NDIndex(p + ":")), dpo.beta());
        return DpoLoss.weightedSum(losses, scratch.create(batch.pairWeights()));
    }

    private DpoLoss.Totals totals(DpoBatch batch, float[] policyLogProbs, float[] referenceLogProbs) {
        int p = batch.pairs();
        return DpoLoss.Totals.of(java.util.Arrays.copyOfRange(policyLogProbs, 0, p), java.util.Arrays.copyOfRange(policyLogProbs, p, 2 * p),
                java.util.Arrays.copyOfRange(referenceLogProbs, 0, p), java.util.Arrays.copyOfRange(referenceLogProbs, p, 2 * p),
                batch.pairWeights(), dpo.beta());
    }

    public long steps() {
        return steps;
    }

    /** Batches skipped because they hold only filler pairs. */
    public long skippedBatches() {
        return skippedBatches;
    }

    public int pendingBatches() {
        return pending.size();
    }

    public MiniMind policy() {
        return policy;
    }

    public MiniMind reference() {
        return reference;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public Settings settings() {
        return dpo;
    }
}
