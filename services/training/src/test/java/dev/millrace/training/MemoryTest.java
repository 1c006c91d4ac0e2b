package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.training.model.MiniMind;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * No leak over many steps: DJL's gradients live in the weights' long-lived manager, so an operation on them
 * outside a scope leaks native memory every step (about 17 MB a step was seen). The resident set of the process
 * and the arrays held by the model's manager must stay flat. The module's tests run with a fixed, pre-touched
 * heap (see the pom), so the resident set's growth is native memory, not the Java heap being touched.
 */
class MemoryTest {
    private static final int WARM_UP = 50;
    private static final int STEPS = 500;
    /** Seen: ±20 MB of noise (allocator, JIT); a leaked gradient handle per weight and step is over 5 GB here. */
    private static final long ALLOWED_GROWTH = 64L << 20;

    @Test
    void memoryStaysFlatOverFiveHundredStepsOfTiny() throws IOException {
        List<BatchTensors> batches = TestBatches.randomUnpacked(9, 8, 32, 4, 4096).stream().map(BatchTensors::from).toList();
        try (MiniMind model = MiniMind.initialise(TestBatches.tiny(), 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Trainer trainer = new Trainer(model, adamw, Trainer.Settings.defaults(LrSchedule.cosine(1e-3, STEPS)), 0);
            int arrays = model.manager().getManagedArrays().size();
            long rssAfterWarmUp = 0;
            long started = System.nanoTime();
            double firstLoss = Double.NaN;
            double lastLoss = Double.NaN;
            for (int step = 0; step < STEPS; step++) {
                Trainer.StepResult result = trainer.add(batches.get(step % batches.size())).orElseThrow();
                lastLoss = result.loss();
                if (step == 0) {
                    firstLoss = result.loss();
                }
                if (step + 1 == WARM_UP) {
                    System.gc();
                    rssAfterWarmUp = residentBytes();
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            System.gc();
            long rssAtEnd = residentBytes();
            System.out.printf("memory over %d steps of tiny (B=4, T=32): RSS %.1f MB after %d steps, %.1f MB after %d (%+.1f MB); "
                            + "%d arrays in the model's manager; %.1f steps/s; loss %.3f -> %.3f%n",
                    STEPS, rssAfterWarmUp / 1e6, WARM_UP, rssAtEnd / 1e6, STEPS, (rssAtEnd - rssAfterWarmUp) / 1e6,
                    model.manager().getManagedArrays().size(), STEPS / seconds, firstLoss, lastLoss);
            assertThat(model.manager().getManagedArrays()).hasSize(arrays);
            assertThat(rssAtEnd - rssAfterWarmUp).as("resident set growth over %d steps", STEPS - WARM_UP).isLessThan(ALLOWED_GROWTH);
            assertThat(lastLoss).isLessThan(firstLoss);
        }
    }

    /** VmRSS of this process (Linux). */
    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IOException("no VmRSS in /proc/self/status");
    }
}
