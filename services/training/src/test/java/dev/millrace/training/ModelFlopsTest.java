package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.training.bench.ModelFlops;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** The FLOP count the benchmark's MFU rests on, against a count by hand and against the model's own weights. */
class ModelFlopsTest {
    /** vocab 10, hidden 8, 1 layer, 2 heads of 4, 1 KV head of 4; SwiGLU width 64·ceil(⌊64/3⌋/64) = 64. */
    private static final ModelConfig SMALL = ModelConfig.of(10, 8, 1, 2, 1, 1, 2, 0);

    @Test
    void countsTheProjectionsAndTheTiedHeadOnce() {
        assertThat(SMALL.intermediate()).isEqualTo(64);
        long q = 8 * 8;
        long k = 4 * 8;
        long v = 4 * 8;
        long o = 8 * 8;
        long gateUpDown = 3 * 64 * 8;
        long lmHead = 10 * 8;
        assertThat(q + k + v + o + gateUpDown + lmHead).isEqualTo(1808);
        assertThat(ModelFlops.matmulParameters(SMALL)).isEqualTo(1808);
    }

    @Test
    void perStepIsSixFlopsPerWeightPlusTwelveLayersLengthHiddenPerPosition() {
        // 2 rows of 3 positions: 6 positions, each 6·1808 for the weights + 12·1 layer·3 keys·8 hidden for attention.
        assertThat(ModelFlops.perPosition(SMALL, 3)).isEqualTo(6 * 1808 + 288);
        assertThat(ModelFlops.perStep(SMALL, 2, 3)).isEqualTo(6 * (6 * 1808 + 288));
    }

    @Test
    void matmulWeightsAreTheModelsMatricesWithTheEmbeddingOnce() {
        for (String preset : new String[] {"tiny", "minimind-26m"}) {
            ModelConfig config = ModelConfig.preset(preset, 6400, 1, 2, 0);
            long matrices = MiniMind.shapes(config).values().stream()
                    .filter(shape -> shape.length == 2)
                    .mapToLong(shape -> shape[0] * shape[1])
                    .sum();
            assertThat(ModelFlops.matmulParameters(config)).as(preset).isEqualTo(matrices);
        }
    }
}
