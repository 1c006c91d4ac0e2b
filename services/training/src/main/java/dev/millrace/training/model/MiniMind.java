package dev.millrace.training.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * MiniMind2 (MiniMind's {@code model/model_minimind.py} at commit 408babf), the whole model in one file.
 *
 * <pre>
 * h = embed_tokens[ids]
 * for each layer:
 *     h += o_proj(attention(rope(q_proj(x)), rope(k_proj(x)), v_proj(x)))   x = input_layernorm(h)
 *     h += down_proj(silu(gate_proj(x)) * up_proj(x))                       x = post_attention_layernorm(h)
 * logits = norm(h) @ embed_tokensᵀ                                          (the LM head is the embedding)
 * </pre>
 *
 * No biases, no dropout. Weights are {@code [out, in]} as {@code nn.Linear} stores them and are kept under
 * their Hugging Face Llama names, so a checkpoint is this map written out.
 *
 * <p>Every array an operation makes belongs to the manager of its first operand, so activations are always
 * the first operand (never the weights): a forward pass then leaves nothing behind in the model's manager.
 */
public final class MiniMind implements AutoCloseable {
    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";

    private final ModelConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> weights;

    private MiniMind(ModelConfig config, NDManager manager, Map<String, NDArray> weights) {
        this.config = config;
        this.manager = manager;
        this.weights = Collections.unmodifiableMap(weights);
    }

    /** Every weight's name and shape, in checkpoint order. */
    public static Map<String, long[]> shapes(ModelConfig c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        long kv = (long) c.kvHeads() * c.headDim();
        s.put(EMBED, new long[] {c.vocabSize(), c.hidden()});
        for (int i = 0; i < c.layers(); i++) {
            String p = "model.layers." + i + ".";
            s.put(p + "input_layernorm.weight", new long[] {c.hidden()});
            s.put(p + "self_attn.q_proj.weight", new long[] {c.hidden(), c.hidden()});
            s.put(p + "self_attn.k_proj.weight", new long[] {kv, c.hidden()});
            s.put(p + "self_attn.v_proj.weight", new long[] {kv, c.hidden()});
            s.put(p + "self_attn.o_proj.weight", new long[] {c.hidden(), c.hidden()});
            s.put(p + "post_attention_layernorm.weight", new long[] {c.hidden()});
            s.put(p + "mlp.gate_proj.weight", new long[] {c.intermediate(), c.hidden()});
            s.put(p + "mlp.up_proj.weight", new long[] {c.intermediate(), c.hidden()});
            s.put(p + "mlp.down_proj.weight", new long[] {c.hidden(), c.intermediate()});
        }
        s.put(FINAL_NORM, new long[] {c.hidden()});
        return s;
    }

    /**
     * A fresh model, initialised as GPT-2 / nanoGPT do: every matrix N(0, 0.02), except the two that write
     * into the residual stream ({@code o_proj}, {@code down_proj}), N(0, 0.02/√(2·layers)), so the stream's
     * variance does not grow with depth; RMSNorm weights 1. Drawn from {@code java.util.Random(seed)}, so
     * a seed gives the same model on every machine and engine.
     */
    public static MiniMind initialise(ModelConfig config, long seed) {
        Random random = new Random(seed);
        double residualStd = 0.02 / Math.sqrt(2.0 * config.layers());
        Map<String, float[]> values = new LinkedHashMap<>();
        shapes(config).forEach((name, shape) -> {
            float[] v = new float[Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact))];
            if (name.endsWith("norm.weight")) {
                Arrays.fill(v, 1f);
            } else {
                double std = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight") ? residualStd : 0.02;
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (random.nextGaussian() * std);
                }
            }
            values.put(name, v);
        });
        return fromWeights(config, values);
    }

    /** A model from float32 values under the names of {@link #shapes} (checked by the caller). */
    public static MiniMind fromWeights(ModelConfig config, Map<String, float[]> values) {
        NDManager manager = NDManager.newBaseManager();
        Map<String, NDArray> weights = new LinkedHashMap<>();
        shapes(config).forEach((name, shape) -> {
            float[] v = values.get(name);
            if (v == null) {
                manager.close();
                throw new IllegalArgumentException("no weight " + name);
            }
            NDArray w = manager.create(v, new Shape(shape));
            w.setRequiresGradient(true);
            weights.put(name, w);
        });
        return new MiniMind(config, manager, weights);
    }

    public ModelConfig config() {
        return config;
    }

    /** The trainable weights by Hugging Face name, in checkpoint order. */
    public Map<String, NDArray> weights() {
        return weights;
    }

    /** The manager the weights live in (long-lived: never make temporaries in it). */
    public NDManager manager() {
        return manager;
    }

    /** Logits {@code [batch, length, vocab]}, made in {@code scratch} (close it, or a scope, to free them). */
    public NDArray forward(NDManager scratch, ModelInput in) {
        int b = in.batch();
        int t = in.length();
        NDArray ids = scratch.create(in.ids(), new Shape(b, t));
        NDArray[] rope = rotaryTables(scratch, in);
        NDArray mask = attentionBias(scratch, in);

        NDArray h = Embedding.embedding(ids, w(EMBED), SparseFormat.DENSE).singletonOrThrow();
        for (int i = 0; i < config.layers(); i++) {
            String p = "model.layers." + i + ".";
            h = h.add(attention(rmsNorm(h, w(p + "input_layernorm.weight")), p, rope, mask, b, t));
            h = h.add(mlp(rmsNorm(h, w(p + "post_attention_layernorm.weight")), p));
        }
        return linear(rmsNorm(h, w(FINAL_NORM)), w(EMBED)); // tied LM head
    }

    /**
     * Logits {@code [1, n, vocab]} of {@code n} new tokens of one sequence whose earlier tokens are in {@code cache}
     * (positions continue from its length); their keys and values are appended to it. Fed a sequence in pieces, the
     * logits equal {@link #forward(NDManager, ModelInput)}'s over the whole of it (unpacked, one row).
     */
    public NDArray forward(NDManager scratch, long[] newIds, KvCache cache) {
        int n = newIds.length;
        if (n == 0) {
            throw new IllegalArgumentException("no new tokens");
        }
        int past = cache.length();
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = past + i;
        }
        ModelInput in = new ModelInput(1, n, newIds, positions, null);
        NDArray ids = scratch.create(newIds, new Shape(1, n));
        NDArray[] rope = rotaryTables(scratch, in);
        NDArray mask = n == 1 ? null : cachedBias(scratch, past, n); // one new token may attend to every cached one

        NDArray h = Embedding.embedding(ids, w(EMBED), SparseFormat.DENSE).singletonOrThrow();
        for (int i = 0; i < config.layers(); i++) {
            String p = "model.layers." + i + ".";
            h = h.add(cachedAttention(rmsNorm(h, w(p + "input_layernorm.weight")), p, i, rope, mask, cache, n));
            h = h.add(mlp(rmsNorm(h, w(p + "post_attention_layernorm.weight")), p));
        }
        cache.advance(n);
        return linear(rmsNorm(h, w(FINAL_NORM)), w(EMBED));
    }

    /**
     * {@link #attention} over the cached keys and values and the new ones. Grouped heads are read by reshaping the
     * queries ({@code [1, heads, n, d]} is {@code [1, kv_heads, groups·n, d]}, since query head h reads KV head
     * ⌊h / groups⌋) instead of repeating the cache; the cache's arrays are never a first operand (see {@link KvCache}).
     */
    private NDArray cachedAttention(NDArray x, String p, int layer, NDArray[] rope, NDArray mask, KvCache cache, int n) {
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int groups = heads / kvHeads;
        int d = config.headDim();
        NDArray q = linear(x, w(p + "self_attn.q_proj.weight")).reshape(1, n, heads, d).transpose(0, 2, 1, 3);
        NDArray k = linear(x, w(p + "self_attn.k_proj.weight")).reshape(1, n, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = linear(x, w(p + "self_attn.v_proj.weight")).reshape(1, n, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray[] kv = cache.append(layer, rotate(k, rope).transpose(0, 1, 3, 2), v);
        int total = cache.length() + n;
        NDArray scores = rotate(q, rope).reshape(1, kvHeads, groups * n, d).matMul(kv[0]).mul(1.0 / Math.sqrt(d));
        if (mask != null) {
            scores = scores.reshape(1, kvHeads, groups, n, total).add(mask).reshape(1, kvHeads, groups * n, total);
        }
        NDArray y = scores.softmax(-1).matMul(kv[1]).reshape(1, heads, n, d);
        return linear(y.transpose(0, 2, 1, 3).reshape(1, n, heads * d), w(p + "self_attn.o_proj.weight"));
    }

    /** Causal bias of {@code n} new tokens over {@code past} cached ones and themselves, {@code [n, past + n]}. */
    private static NDArray cachedBias(NDManager scratch, int past, int n) {
        int total = past + n;
        float[] bias = new float[n * total];
        for (int q = 0; q < n; q++) {
            for (int k = past + q + 1; k < total; k++) {
                bias[q * total + k] = Float.NEGATIVE_INFINITY;
            }
        }
        return scratch.create(bias, new Shape(n, total));
    }

    /** {@code w · x / sqrt(mean(x²) + eps)} over the hidden axis. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray rms = x.square().mean(new int[] {-1}, true).add(config.rmsNormEps()).sqrt();
        return x.div(rms).mul(weight);
    }

    private NDArray attention(NDArray x, String p, NDArray[] rope, NDArray mask, int b, int t) {
        int heads = config.heads();
        int kvHeads = config.kvHeads();
        int d = config.headDim();
        // [B, T, heads·d] -> [B, heads, T, d]
        NDArray q = linear(x, w(p + "self_attn.q_proj.weight")).reshape(b, t, heads, d).transpose(0, 2, 1, 3);
        NDArray k = linear(x, w(p + "self_attn.k_proj.weight")).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        NDArray v = linear(x, w(p + "self_attn.v_proj.weight")).reshape(b, t, kvHeads, d).transpose(0, 2, 1, 3);
        q = rotate(q, rope);
        k = repeatKv(rotate(k, rope), b, t);
        v = repeatKv(v, b, t);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(1.0 / Math.sqrt(d)).add(mask);
        NDArray y = scores.softmax(-1).matMul(v); // [B, heads, T, d]
        return linear(y.transpose(0, 2, 1, 3).reshape(b, t, heads * d), w(p + "self_attn.o_proj.weight"));
    }

    /** Grouped KV: query head h reads KV head ⌊h / (heads/kv_heads)⌋, MiniMind's {@code repeat_kv}. */
    private NDArray repeatKv(NDArray kv, int b, int t) {
        int groups = config.heads() / config.kvHeads();
        if (groups == 1) {
            return kv;
        }
        int d = config.headDim();
        return kv.expandDims(2)
                .broadcast(new Shape(b, config.kvHeads(), groups, t, d))
                .reshape(b, config.heads(), t, d);
    }

    /** Rotary embedding, "rotate half" layout: {@code x·cos + [-x[d/2:], x[:d/2]]·sin}. */
    private NDArray rotate(NDArray x, NDArray[] rope) {
        int half = config.headDim() / 2;
        NDArray rotated = NDArrays.concat(new NDList(x.get("..., " + half + ":").neg(), x.get("..., :" + half)), -1);
        return x.mul(rope[0]).add(rotated.mul(rope[1]));
    }

    private NDArray mlp(NDArray x, String p) {
        NDArray gate = linear(x, w(p + "mlp.gate_proj.weight"));
        NDArray silu = gate.mul(Activation.sigmoid(gate));
        return linear(silu.mul(linear(x, w(p + "mlp.up_proj.weight"))), w(p + "mlp.down_proj.weight"));
    }

    /**
     * cos and sin of {@code position · θ^(-2i/d)}, each frequency twice ({@code [cos, cos]}), shape
     * {@code [B or 1, 1, T, d]} so they broadcast over heads. Computed in double, then rounded once.
     */
    private NDArray[] rotaryTables(NDManager scratch, ModelInput in) {
        int d = config.headDim();
        int half = d / 2;
        int rows = in.positions() == null ? 1 : in.batch();
        int t = in.length();
        float[] cos = new float[rows * t * d];
        float[] sin = new float[rows * t * d];
        for (int r = 0; r < rows; r++) {
            for (int s = 0; s < t; s++) {
                int pos = in.position(r, s);
                for (int i = 0; i < half; i++) {
                    double angle = pos * Math.pow(config.ropeTheta(), -2.0 * i / d);
                    int at = (r * t + s) * d + i;
                    cos[at] = cos[at + half] = (float) Math.cos(angle);
                    sin[at] = sin[at + half] = (float) Math.sin(angle);
                }
            }
        }
        Shape shape = new Shape(rows, 1, t, d);
        return new NDArray[] {scratch.create(cos, shape), scratch.create(sin, shape)};
    }

    /** 0 where {@link ModelInput#attends} allows, -inf elsewhere; added to the scores before softmax. */
    private static NDArray attentionBias(NDManager scratch, ModelInput in) {
        int rows = in.segments() == null ? 1 : in.batch();
        int t = in.length();
        float[] bias = new float[rows * t * t];
        for (int r = 0; r < rows; r++) {
            for (int q = 0; q < t; q++) {
                for (int k = 0; k < t; k++) {
                    bias[(r * t + q) * t + k] = in.attends(r, q, k) ? 0f : Float.NEGATIVE_INFINITY;
                }
            }
        }
        return scratch.create(bias, new Shape(rows, 1, t, t));
    }

    private static NDArray linear(NDArray x, NDArray weight) {
        return Linear.linear(x, weight).singletonOrThrow();
    }

    private NDArray w(String name) {
        return weights.get(name);
    }

    /** The weights as float arrays, by name (for checkpoints). */
    public Map<String, float[]> values() {
        Map<String, float[]> out = new LinkedHashMap<>();
        weights.forEach((name, w) -> out.put(name, w.toFloatArray()));
        return out;
    }

    public long parameterCount() {
        return weights.values().stream().mapToLong(NDArray::size).sum();
    }

    @Override
    public void close() {
        manager.close();
    }
}
