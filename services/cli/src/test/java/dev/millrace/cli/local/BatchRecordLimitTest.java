package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.contract.ServiceSettings;
import dev.millrace.core.batch.LargestBatch;
import dev.millrace.core.record.Stage;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchRecordLimitTest {
    private static ServiceSettings run(int t, int b, Set<Stage> packing) {
        return new ServiceSettings(List.of(Stage.SFT, Stage.PRETRAIN, Stage.DPO), "millrace", t, b, 1000, packing);
    }

    @Test
    void smallBatchesKeepKafkasDefault() {
        assertThat(BatchRecordLimit.of(run(256, 8, Set.of()), Map.of())).isEqualTo(BatchRecordLimit.KAFKA_DEFAULT);
    }

    /** At B=64, T=8192 the limit covers loss-mask's own largest batch of every stage (the check it makes at startup). */
    @Test
    void realisticBatchesGetALimitAboveTheLargestBatchLossMaskComputes() {
        ServiceSettings run = run(8192, 64, Set.of(Stage.PRETRAIN));
        int limit = BatchRecordLimit.of(run, Map.of("millrace.sft.pack-buffer", "1024"));
        String fingerprint = "0123456789abcdef";
        int vocabMax = 6399;
        for (Stage stage : run.stages()) {
            for (boolean packed : stage == Stage.DPO ? new boolean[] {false} : new boolean[] {false, true}) {
                int buffer = stage == Stage.SFT ? 1024 : 512;
                long bytes = LargestBatch.bytes(stage, 8192, 64, packed, vocabMax, buffer, fingerprint, run.topics().raw(stage));
                assertThat(limit).as("%s packed=%s", stage, packed).isGreaterThan((int) bytes + 100);
            }
        }
        assertThat(limit).isGreaterThan(BatchRecordLimit.KAFKA_DEFAULT);
    }
}
