package dev.millrace.training.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW as {@code torch.optim.AdamW} computes it (decoupled weight decay, bias-corrected moments), written
 * out so its moments can be checkpointed (DJL's optimisers keep them private). MiniMind trains with
 * PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on every weight.
 */
public final class AdamW implements AutoCloseable {
    /** The hyperparameters. */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public static Settings defaults() {
            return new Settings(0.9, 0.999, 1e-8, 0.01);
        }
    }

    private final Settings settings;
    private final NDManager manager;
    private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();
    private long steps;

    /** Zero moments for {@code weights}, made now so no step has to allocate long-lived arrays. */
    public AdamW(Settings settings, Map<String, NDArray> weights) {
        this.settings = settings;
        this.manager = NDManager.newBaseManager();
        weights.forEach((name, w) -> {
            firstMoments.put(name, manager.zeros(w.getShape(), w.getDataType()));
            secondMoments.put(name, manager.zeros(w.getShape(), w.getDataType()));
        });
    }

    public Settings settings() {
        return settings;
    }

    /** Updates taken so far (the bias correction's t). */
    public long steps() {
        return steps;
    }

    /**
     * One update of every weight from its gradient times {@code gradScale} (the clipping factor), then the
     * gradients are zeroed: DJL's PyTorch engine accumulates them across backward passes and never clears them.
     */
    public void update(Map<String, NDArray> weights, double lr, double gradScale) {
        steps++;
        double correction1 = 1 - Math.pow(settings.beta1, steps);
        double correction2 = 1 - Math.pow(settings.beta2, steps);
        // Every temporary here (the gradient handles included) is made in a long-lived manager; the scope frees them.
        try (NoGrad noGrad = NoGrad.enter(); NDScope scope = new NDScope()) {
            weights.forEach((name, w) -> {
                NDArray g = w.getGradient().mul(gradScale);
                NDArray m = firstMoments.get(name);
                NDArray v = secondMoments.get(name);
                m.muli(settings.beta1).addi(g.mul(1 - settings.beta1));
                v.muli(settings.beta2).addi(g.square().mul(1 - settings.beta2));
                w.muli(1 - lr * settings.weightDecay);
                NDArray denominator = v.div(correction2).sqrt().add(settings.eps);
                w.subi(m.div(denominator).mul(lr / correction1));
                JniUtils.zeroGrad((PtNDArray) w);
            });
        }
    }

    /** The moments by name ({@code exp_avg.<weight>}, {@code exp_avg_sq.<weight>}, PyTorch's state names). */
    public Map<String, float[]> moments() {
        Map<String, float[]> out = new LinkedHashMap<>();
        firstMoments.forEach((name, m) -> out.put("exp_avg." + name, m.toFloatArray()));
        secondMoments.forEach((name, v) -> out.put("exp_avg_sq." + name, v.toFloatArray()));
        return out;
    }

    /** Restores the moments and the step count written by {@link #moments()} and {@link #steps()}. */
    public void restore(Map<String, float[]> moments, long steps) {
        restore(firstMoments, "exp_avg.", moments);
        restore(secondMoments, "exp_avg_sq.", moments);
        this.steps = steps;
    }

    private static void restore(Map<String, NDArray> into, String prefix, Map<String, float[]> moments) {
        into.forEach((name, array) -> {
            float[] values = moments.get(prefix + name);
            if (values == null || values.length != array.size()) {
                throw new IllegalArgumentException("optimiser state has no " + prefix + name + " of " + array.size() + " values");
            }
            array.set(values);
        });
    }

    @Override
    public void close() {
        manager.close();
    }
}
