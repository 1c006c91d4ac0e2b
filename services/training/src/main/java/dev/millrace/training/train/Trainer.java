package dev.millrace.training.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.millrace.training.model.MiniMind;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Training, one optimiser step at a time: {@code accumulation} batches with something to learn make a step;
 * its loss is {@code Σ ce·m / Σ m} over all of them, the gradients are clipped to a global norm, and AdamW
 * takes the step at the schedule's learning rate.
 */
public final class Trainer {
    /** How the weights are updated. */
    public record Settings(LrSchedule schedule, double clipNorm, int accumulation, AdamW.Settings adamw) {
        public Settings {
            if (accumulation < 1) {
                throw new IllegalArgumentException("gradient accumulation must be at least 1 batch, got " + accumulation);
            }
        }

        /** MiniMind's pretrain defaults around a schedule: clip at 1.0, no accumulation, PyTorch's AdamW. */
        public static Settings defaults(LrSchedule schedule) {
            return new Settings(schedule, 1.0, 1, AdamW.Settings.defaults());
        }
    }

    /**
     * What one optimiser step did.
     *
     * @param step steps completed, this one included
     * @param loss {@code Σ ce·m / Σ m} before the update
     * @param gradNorm the global gradient norm before clipping
     */
    public record StepResult(long step, double loss, double lr, double gradNorm, long trainedTokens, int batches) {
    }

    private final MiniMind model;
    private final AdamW optimizer;
    private final Settings settings;
    private final List<BatchTensors> pending = new ArrayList<>();
    private long steps;
    private long skippedBatches;

    /** {@code steps}: optimiser steps already taken (a resumed run continues the schedule from there). */
    public Trainer(MiniMind model, AdamW optimizer, Settings settings, long steps) {
        this.model = model;
        this.optimizer = optimizer;
        this.settings = settings;
        this.steps = steps;
    }

    /**
     * Adds a batch; returns the step it completes, if it completes one. A batch that trains no token (all
     * prompt, all filler) is skipped and counted: its loss would be 0/0.
     */
    public Optional<StepResult> add(BatchTensors batch) {
        batch.checkFits(model.config());
        if (batch.weightSum() == 0) {
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

    /** One optimiser step over {@code batches} together (each must train at least one token). */
    public StepResult step(List<BatchTensors> batches) {
        double weightSum = batches.stream().mapToDouble(BatchTensors::weightSum).sum();
        if (weightSum == 0) {
            throw new IllegalArgumentException("no trained token in the step's batches");
        }
        double loss = 0;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            for (BatchTensors batch : batches) {
                // One batch's activations at a time: they are freed once its gradients are accumulated.
                try (NDManager scratch = model.manager().newSubManager()) {
                    NDArray part = weightedLoss(scratch, batch).div((float) weightSum); // stays float32
                    collector.backward(part);
                    loss += part.getFloat();
                }
            }
        }
        double gradNorm;
        try (NDScope scope = new NDScope()) { // the gradient handles are made in the weights' long-lived manager
            gradNorm = GradClip.globalNorm(gradients());
        }
        double lr = settings.schedule().at(steps);
        optimizer.update(model.weights(), lr, GradClip.scale(gradNorm, settings.clipNorm()));
        steps++;
        return new StepResult(steps, loss, lr, gradNorm, Math.round(weightSum), batches.size());
    }

    /** {@code Σ ce·m / Σ m} of a batch under the current weights; nothing is learned. NaN when it trains no token. */
    public double loss(BatchTensors batch) {
        try (NoGrad noGrad = NoGrad.enter(); NDManager scratch = model.manager().newSubManager()) {
            return weightedLoss(scratch, batch).getFloat() / batch.weightSum();
        }
    }

    /** {@code Σ ce·m} of a batch, a scalar made in {@code scratch}. */
    NDArray weightedLoss(NDManager scratch, BatchTensors batch) {
        NDArray logits = model.forward(scratch, batch.input());
        Shape shape = new Shape(batch.rows(), batch.length());
        return Loss.weightedSum(logits, scratch.create(batch.targets(), shape), scratch.create(batch.weights(), shape));
    }

    private List<NDArray> gradients() {
        List<NDArray> grads = new ArrayList<>();
        model.weights().values().forEach(w -> grads.add(w.getGradient()));
        return grads;
    }

    public long steps() {
        return steps;
    }

    /** Batches skipped because they train no token. */
    public long skippedBatches() {
        return skippedBatches;
    }

    /** Batches waiting for the rest of their accumulation group (not yet trained). */
    public int pendingBatches() {
        return pending.size();
    }

    public MiniMind model() {
        return model;
    }

    public AdamW optimizer() {
        return optimizer;
    }
}
