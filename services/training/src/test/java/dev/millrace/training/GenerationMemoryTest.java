package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.training.generate.GenerationSettings;
import dev.millrace.training.generate.Generator;
import dev.millrace.training.model.MiniMind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * No leak over many generations (as {@link MemoryTest} for training steps): each generation's arrays, its KV cache
 * included, are freed with its manager, so the resident set stays flat and the model's manager holds only the weights.
 */
class GenerationMemoryTest {
    private static final int WARM_UP = 20;
    private static final int GENERATIONS = 200;
    private static final int NEW_TOKENS = 32;
    /** Seen: a few MB of noise; a step's leaked logits alone (16 KB) are over 100 MB over the run's 6400 steps. */
    private static final long ALLOWED_GROWTH = 64L << 20;

    @Test
    void memoryStaysFlatOverTwoHundredGenerations() throws IOException {
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1)) {
            Generator generator = new Generator(model);
            GenerationSettings sampling = new GenerationSettings(NEW_TOKENS, 0.8, 0.9, -1);
            int arrays = model.manager().getManagedArrays().size();
            long rssAfterWarmUp = 0;
            long tokens = 0;
            long started = System.nanoTime();
            for (int g = 0; g < GENERATIONS; g++) {
                tokens += generator.generate(new int[] {1, 5 + g % 50, 7, 9}, sampling, g).tokens().length;
                if (g + 1 == WARM_UP) {
                    System.gc();
                    rssAfterWarmUp = residentBytes();
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            System.gc();
            long rssAtEnd = residentBytes();
            System.out.printf("memory over %d generations of %d tokens (tiny): RSS %.1f MB after %d, %.1f MB after %d (%+.1f MB); %.0f tokens/s%n",
                    GENERATIONS, NEW_TOKENS, rssAfterWarmUp / 1e6, WARM_UP, rssAtEnd / 1e6, GENERATIONS,
                    (rssAtEnd - rssAfterWarmUp) / 1e6, tokens / seconds);
            assertThat(tokens).isEqualTo((long) GENERATIONS * NEW_TOKENS);
            assertThat(model.manager().getManagedArrays()).hasSize(arrays);
            assertThat(rssAtEnd - rssAfterWarmUp).as("resident set growth over %d generations", GENERATIONS - WARM_UP).isLessThan(ALLOWED_GROWTH);
        }
    }

    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }
}
