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
import java.util.Objects;
import java.util.Optional;

/**
 * Training, one optimiser step at a time: {@code accumulation} batches with something to learn make a step;
 * its loss is {@code Σ ce·m / Σ m} over all of them, the gradients are clipped to a global norm, and AdamW
 * takes the step at the schedule's learning rate.
 *
 * <p>With a {@link Teacher} (logit-level distillation) a position's loss is {@code α·ce + (1-α)·τ²·kl}
 * ({@link DistillLoss}) instead of {@code ce}, reduced the same way; the teacher is frozen: its logits are computed
 * with grad mode off, batch by batch, and its weights are never updated.
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

    /** A frozen teacher model and the weights of the distillation loss. */
    public record Teacher(MiniMind model, DistillLoss.Settings settings) {
        public Teacher {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(settings, "settings");
        }
    }

    /**
     * What one optimiser step did.
     *
     * @param step steps completed, this one included
     * @param loss {@code Σ ce·m / Σ m} before the update (with a teacher: {@code Σ (α·ce + (1-α)·τ²·kl)·m / Σ m})
     * @param gradNorm the global gradient norm before clipping
     * @param distill with a teacher: the step's cross-entropy and KL, each {@code Σ x·m / Σ m}; null without one
     */
    public record StepResult(long step, double loss, double lr, double gradNorm, long trainedTokens, int batches, DistillLoss.Parts distill) {
        /** A step without a teacher. */
        public StepResult(long step, double loss, double lr, double gradNorm, long trainedTokens, int batches) {
            this(step, loss, lr, gradNorm, trainedTokens, batches, null);
        }
    }

    private final MiniMind model;
    private final AdamW optimizer;
    private final Settings settings;
    /** Null: plain cross-entropy. */
    private final Teacher teacher;
    private final List<BatchTensors> pending = new ArrayList<>();
    private long steps;
    private long skippedBatches;

    /** {@code steps}: optimiser steps already taken (a resumed run continues the schedule from there). */
    public Trainer(MiniMind model, AdamW optimizer, Settings settings, long steps) {
        this(model, optimizer, settings, steps, null);
    }

    /**
     * As above, distilling from {@code teacher} (null: plain cross-entropy). The teacher's vocabulary must cover
     * the student's (a larger one is cut to the student's, as MiniMind does).
     */
    public Trainer(MiniMind model, AdamW optimizer, Settings settings, long steps, Teacher teacher) {
        if (teacher != null && teacher.model().config().vocabSize() < model.config().vocabSize()) {
            throw new IllegalArgumentException("the distillation teacher's vocabulary has " + teacher.model().config().vocabSize()
                    + " ids, the student's " + model.config().vocabSize() + ": the teacher must cover every id the student predicts");
        }
        this.model = model;
        this.optimizer = optimizer;
        this.settings = settings;
        this.steps = steps;
        this.teacher = teacher;
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
        double ceSum = 0;
        double klSum = 0;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            for (BatchTensors batch : batches) {
                // One batch's activations at a time: they are freed once its gradients are accumulated.
                try (NDManager scratch = model.manager().newSubManager()) {
                    if (teacher == null) {
                        NDArray part = weightedLoss(scratch, batch).div((float) weightSum); // stays float32
                        collector.backward(part);
                        loss += part.getFloat();
                    } else {
                        Terms terms = terms(scratch, batch);
                        NDArray part = DistillLoss.weightedSum(terms.ce(), terms.kl(), terms.weights(), teacher.settings()).div((float) weightSum);
                        collector.backward(part);
                        loss += part.getFloat();
                        try (NoGrad noGrad = NoGrad.enter()) {
                            ceSum += terms.ce().mul(terms.weights()).sum().getFloat();
                            klSum += terms.kl().mul(terms.weights()).sum().getFloat();
                        }
                    }
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
        DistillLoss.Parts parts = teacher == null ? null : new DistillLoss.Parts(ceSum / weightSum, klSum / weightSum);
        return new StepResult(steps, loss, lr, gradNorm, Math.round(weightSum), batches.size(), parts);
    }

    /**
     * The training loss of a batch under the current weights, {@code Σ ce·m / Σ m} (with a teacher:
     * {@code Σ (α·ce + (1-α)·τ²·kl)·m / Σ m}); nothing is learned. NaN when it trains no token.
     */
    public double loss(BatchTensors batch) {
        try (NoGrad noGrad = NoGrad.enter(); NDManager scratch = model.manager().newSubManager()) {
            if (teacher == null) {
                return weightedLoss(scratch, batch).getFloat() / batch.weightSum();
            }
            Terms terms = terms(scratch, batch);
            return DistillLoss.weightedSum(terms.ce(), terms.kl(), terms.weights(), teacher.settings()).getFloat() / batch.weightSum();
        }
    }

    /** With a teacher: a batch's cross-entropy and KL under the current weights, each {@code Σ x·m / Σ m}; nothing is learned. */
    public DistillLoss.Parts distillParts(BatchTensors batch) {
        if (teacher == null) {
            throw new IllegalStateException("this trainer distils from no teacher");
        }
        try (NoGrad noGrad = NoGrad.enter(); NDManager scratch = model.manager().newSubManager()) {
            Terms terms = terms(scratch, batch);
            double w = batch.weightSum();
            return new DistillLoss.Parts(terms.ce().mul(terms.weights()).sum().getFloat() / w,
                    terms.kl().mul(terms.weights()).sum().getFloat() / w);
        }
    }

    /** {@code Σ ce·m} of a batch, a scalar made in {@code scratch}. */
    NDArray weightedLoss(NDManager scratch, BatchTensors batch) {
        NDArray logits = model.forward(scratch, batch.input());
        Shape shape = new Shape(batch.rows(), batch.length());
        return Loss.weightedSum(logits, scratch.create(batch.targets(), shape), scratch.create(batch.weights(), shape));
    }

    /** A batch's per-position cross-entropy and KL from the teacher, {@code [B, T]}, and its weights. */
    private record Terms(NDArray ce, NDArray kl, NDArray weights) {
    }

    /**
     * The teacher's logits first, with grad mode off (inside the step's gradient collector too: the teacher is
     * frozen and no graph is built through it), then the student's; all made in {@code scratch}.
     */
    private Terms terms(NDManager scratch, BatchTensors batch) {
        NDArray teacherLogits;
        try (NoGrad noGrad = NoGrad.enter()) {
            teacherLogits = DistillLoss.toStudentVocabulary(teacher.model().forward(scratch, batch.input()), model.config().vocabSize());
        }
        NDArray logits = model.forward(scratch, batch.input());
        Shape shape = new Shape(batch.rows(), batch.length());
        NDArray weights = scratch.create(batch.weights(), shape);
        NDArray ce = Loss.crossEntropy(logits, scratch.create(batch.targets(), shape));
        return new Terms(ce, DistillLoss.kl(logits, teacherLogits, teacher.settings().temperature()), weights);
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

    /** The teacher this trainer distils from; empty for plain cross-entropy. */
    public Optional<Teacher> teacher() {
        return Optional.ofNullable(teacher);
    }

    public AdamW optimizer() {
        return optimizer;
    }
}
