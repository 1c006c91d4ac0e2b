package dev.millrace.training.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.millrace.training.model.KvCache;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.NoGrad;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;

/**
 * Continues a prompt with a model: the prompt in one forward pass, then one token at a time over a {@link KvCache},
 * so an answer costs time linear in its length. Greedy, or temperature and top-p sampling drawn in Java from a
 * {@link Random} of the given seed, so one seed gives one answer on every run and machine (the engine's own random
 * numbers are never used).
 *
 * <p>Every generation runs with grad mode off (on the calling thread; see {@link NoGrad}) in a manager of its own, and
 * each step's arrays in a sub-manager closed after the step, so memory stays flat over any number of generations. The
 * model is borrowed, not closed, and only read; a generator keeps no state between generations.
 */
public final class Generator {
    private final MiniMind model;

    public Generator(MiniMind model) {
        this.model = model;
    }

    /** The seed a record's answer is drawn with: the first 8 bytes of SHA-256 of its id (a replay gets the same). */
    public static long seedOf(String recordId) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(recordId.getBytes(StandardCharsets.UTF_8));
            long seed = 0;
            for (int i = 0; i < 8; i++) {
                seed = (seed << 8) | (sha[i] & 0xff);
            }
            return seed;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Continues {@code prompt} (token ids, at least one) until the end-of-turn token or {@code max_new_tokens}. */
    public Generation generate(int[] prompt, GenerationSettings settings, long seed) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("an empty prompt");
        }
        int positions = model.config().maxPositions();
        if ((long) prompt.length + settings.maxNewTokens() > positions) {
            throw new IllegalArgumentException("a prompt of " + prompt.length + " tokens and max_new_tokens "
                    + settings.maxNewTokens() + " exceed the model's " + positions + " positions");
        }
        Random random = new Random(seed);
        int[] out = new int[settings.maxNewTokens()];
        try (NoGrad noGrad = NoGrad.enter();
                NDManager generation = NDManager.newBaseManager();
                KvCache cache = new KvCache(model.config(), generation)) {
            float[] logits = lastLogits(generation, Arrays.stream(prompt).asLongStream().toArray(), cache);
            for (int n = 0; n < out.length; n++) {
                int next = settings.isGreedy() ? argmax(logits) : sample(logits, settings, random);
                if (next == settings.endOfTurnId()) {
                    return new Generation(Arrays.copyOf(out, n), Generation.Finish.END_OF_TURN);
                }
                out[n] = next;
                if (n + 1 < out.length) {
                    logits = lastLogits(generation, new long[] {next}, cache);
                }
            }
        }
        return new Generation(out, Generation.Finish.MAX_NEW_TOKENS);
    }

    /** The logits of the last of {@code ids}, fed after the cached ones; the step's arrays are freed. */
    private float[] lastLogits(NDManager generation, long[] ids, KvCache cache) {
        try (NDManager step = generation.newSubManager()) {
            NDArray logits = model.forward(step, ids, cache);
            return logits.get("0, " + (ids.length - 1) + ", :").toFloatArray();
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * softmax(logits / temperature) restricted to the smallest set of most likely tokens whose mass reaches top_p
     * (ties in order of id), renormalised, and one draw from it. In double, in a fixed order, so a seed decides.
     */
    static int sample(float[] logits, GenerationSettings settings, Random random) {
        double max = logits[argmax(logits)];
        double[] weight = new double[logits.length];
        double total = 0;
        for (int i = 0; i < logits.length; i++) {
            weight[i] = Math.exp((logits[i] - max) / settings.temperature());
            total += weight[i];
        }
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -weight[i]).thenComparingInt(i -> i));
        int kept = 0;
        double mass = 0;
        while (kept < order.length && (kept == 0 || mass < settings.topP() * total)) {
            mass += weight[order[kept++]];
        }
        double u = random.nextDouble() * mass;
        for (int j = 0; j < kept; j++) {
            u -= weight[order[j]];
            if (u < 0) {
                return order[j];
            }
        }
        return order[kept - 1]; // rounding left u at 0
    }
}
