package dev.millrace.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Stage;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The settings each service is started with, under the keys its typed config reads. */
class ServiceSettingsTest {
    private static final ServiceSettings ALL_STAGES = new ServiceSettings(List.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL),
            "acme", 128, 4, 700, EnumSet.of(Stage.PRETRAIN, Stage.DISTILL));

    @Test
    void everyServiceGetsTheStagesAndTheTopicPrefix() {
        for (PipelineService service : PipelineService.values()) {
            assertThat(ALL_STAGES.properties(service)).containsEntry("millrace.stages", "pretrain,sft,dpo,distill")
                    .containsEntry("millrace.topic-prefix", "acme");
        }
        assertThat(ALL_STAGES.properties(PipelineService.CHAT_TEMPLATE)).containsOnlyKeys("millrace.stages", "millrace.topic-prefix");
        assertThat(ALL_STAGES.properties(PipelineService.TOKENIZE)).containsOnlyKeys("millrace.stages", "millrace.topic-prefix");
        assertThat(ALL_STAGES.properties(PipelineService.INGEST)).containsOnlyKeys("millrace.stages", "millrace.topic-prefix");
    }

    @Test
    void lossMaskGetsTheBatchShapeAndPackingOnlyForThePackedStages() {
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("millrace.stages", "pretrain,sft,dpo,distill");
        expected.put("millrace.topic-prefix", "acme");
        expected.put("millrace.seq-len", "128");
        expected.put("millrace.batch-size", "4");
        expected.put("millrace.batch-linger-ms", "700");
        expected.put("millrace.pretrain.packing", "on");
        expected.put("millrace.distill.packing", "on");

        assertThat(ALL_STAGES.properties(PipelineService.LOSS_MASK)).containsExactlyEntriesOf(expected);
    }

    @Test
    void aPackedStageThatIsNotServedIsNotWritten() {
        ServiceSettings sft = new ServiceSettings(List.of(Stage.SFT), "millrace", 512, 16, 1000, EnumSet.of(Stage.PRETRAIN));
        assertThat(sft.properties(PipelineService.LOSS_MASK)).doesNotContainKey("millrace.pretrain.packing");
        assertThat(sft.topics()).isEqualTo(Topics.DEFAULT);
    }
}
