package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.millrace.training.model.KvCache;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelInput;
import dev.millrace.training.train.NoGrad;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Cached decoding computes what the full forward pass computes: the logits of every position, fed one token at a
 * time (or a prompt first, then one at a time) with the keys and values of the earlier ones from the cache, equal
 * the full causal forward's logits at that position. The tiny preset has grouped KV heads (4 query heads over 2),
 * and the sharp model's attention is far from uniform, so a wrong rotary offset, mask or head grouping shows.
 */
class KvCacheTest {
    private static final double TOLERANCE = 1e-5;
    private static final int LENGTH = 13;

    @Test
    void tokenByTokenDecodingEqualsTheFullForwardAtEveryPosition() {
        compareWithChunks(1, 1);
    }

    @Test
    void aPromptThenTokenByTokenEqualsTheFullForward() {
        compareWithChunks(5, 1);
    }

    @Test
    void chunksOfSeveralTokensEqualTheFullForward() {
        compareWithChunks(4, 3);
    }

    @Test
    void theCacheHoldsTwoArraysPerLayerWhateverItsLength() {
        try (MiniMind model = TestBatches.sharpModel(TestBatches.tiny(), 3); NoGrad g = NoGrad.enter(); // the model loads the engine
                NDManager generation = NDManager.newBaseManager(); KvCache cache = new KvCache(model.config(), generation)) {
            int modelArrays = model.manager().getManagedArrays().size();
            for (int t = 0; t < 40; t++) {
                try (NDManager step = generation.newSubManager()) {
                    model.forward(step, new long[] {t + 5}, cache);
                }
                assertThat(cache.heldArrays()).isEqualTo(2 * model.config().layers());
            }
            assertThat(cache.length()).isEqualTo(40);
            assertThat(model.manager().getManagedArrays()).hasSize(modelArrays);
        }
    }

    /** The first {@code prompt} tokens in one call, the rest {@code chunk} at a time. */
    private static void compareWithChunks(int prompt, int chunk) {
        long[] ids = new Random(5).longs(LENGTH, 3, TestBatches.tiny().vocabSize()).toArray();
        try (MiniMind model = TestBatches.sharpModel(TestBatches.tiny(), 3); NoGrad g = NoGrad.enter(); // the model loads the engine
                NDManager scratch = NDManager.newBaseManager(); KvCache cache = new KvCache(model.config(), scratch)) {
            int vocab = model.config().vocabSize();
            float[] full = model.forward(scratch, ModelInput.unpacked(1, LENGTH, ids)).toFloatArray();
            int done = 0;
            while (done < LENGTH) {
                int n = Math.min(done == 0 ? prompt : chunk, LENGTH - done);
                NDArray logits = model.forward(scratch, Arrays.copyOfRange(ids, done, done + n), cache);
                assertThat(logits.getShape().getShape()).containsExactly(1, n, vocab);
                float[] cached = logits.toFloatArray();
                for (int i = 0; i < n; i++) {
                    int position = done + i;
                    double worst = 0;
                    for (int v = 0; v < vocab; v++) {
                        double expected = full[position * vocab + v];
                        worst = Math.max(worst, Math.abs(cached[i * vocab + v] - expected) / Math.max(1, Math.abs(expected)));
                    }
                    assertThat(worst).as("largest deviation at position %d (a prompt of %d, then %d at a time)", position, prompt, chunk)
                            .isLessThan(TOLERANCE);
                }
                done += n;
                assertThat(cache.length()).isEqualTo(done);
            }
        }
    }
}
