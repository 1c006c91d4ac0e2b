package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.core.record.Stage;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What each service of a local run is started with. */
class ServicePropertiesTest {
    private static final ServiceSettings ALL_STAGES = new ServiceSettings(List.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL), "millrace",
            512, 16, 1000, EnumSet.of(Stage.PRETRAIN, Stage.SFT));

    private static Map<String, String> of(PipelineService s, Path run, int port) {
        return ServiceProperties.of(s, ALL_STAGES, new ServiceProperties.Placement("127.0.0.1:1", port, run), Map.of());
    }

    @Test
    void eachServiceGetsTheStagesItsTopicsToWaitForAndLossMaskThePackedStages(@TempDir Path run) {
        Map<String, String> ingest = of(PipelineService.INGEST, run, 7);
        Map<String, String> chat = of(PipelineService.CHAT_TEMPLATE, run, 8);
        Map<String, String> tokenize = of(PipelineService.TOKENIZE, run, 9);
        Map<String, String> lossMask = of(PipelineService.LOSS_MASK, run, 10);

        for (Map<String, String> p : List.of(ingest, chat, tokenize, lossMask)) {
            assertThat(p).containsEntry("millrace.stages", "pretrain,sft,dpo,distill").containsEntry("quarkus.http.host", "127.0.0.1")
                    .containsEntry("kafka.bootstrap.servers", "127.0.0.1:1").containsEntry("millrace.topic-prefix", "millrace");
        }
        assertThat(ingest).containsEntry("quarkus.http.port", "7").doesNotContainKeys("quarkus.kafka-streams.topics", "kafka-streams.state.dir");
        assertThat(chat).containsEntry("quarkus.http.port", "8");
        assertThat(chat).containsEntry("quarkus.kafka-streams.topics", "millrace.pretrain.raw,millrace.pretrain.templated,"
                + "millrace.sft.raw,millrace.sft.templated,millrace.dpo.raw,millrace.dpo.templated,"
                + "millrace.distill.raw,millrace.distill.templated,millrace.dlq")
                .containsEntry("kafka-streams.state.dir", run.resolve("state/chat-template").toString());
        assertThat(tokenize.get("quarkus.kafka-streams.topics")).startsWith("millrace.pretrain.templated,millrace.pretrain.tokenized,")
                .endsWith(",millrace.distill.templated,millrace.distill.tokenized,millrace.dlq");
        assertThat(tokenize).containsEntry("kafka-streams.state.dir", run.resolve("state/tokenize").toString());
        assertThat(lossMask.get("quarkus.kafka-streams.topics")).startsWith("millrace.pretrain.tokenized,millrace.pretrain.batches,")
                .endsWith(",millrace.distill.tokenized,millrace.distill.batches,millrace.dlq");
        assertThat(lossMask).containsEntry("millrace.pretrain.packing", "on").containsEntry("millrace.sft.packing", "on")
                .doesNotContainKeys("millrace.dpo.packing", "millrace.distill.packing")
                .containsEntry("millrace.seq-len", "512").containsEntry("millrace.batch-size", "16").containsEntry("millrace.batch-linger-ms", "1000");
        assertThat(chat).doesNotContainKeys("millrace.sft.packing", "millrace.seq-len");
        assertThat(tokenize).doesNotContainKeys("millrace.sft.packing", "millrace.seq-len");
    }

    @Test
    void theTopicPrefixNamesEveryTopic(@TempDir Path run) {
        ServiceSettings sft = new ServiceSettings(List.of(Stage.SFT), "team-a", 128, 4, 500, EnumSet.noneOf(Stage.class));
        Map<String, String> p = ServiceProperties.of(PipelineService.TOKENIZE, sft, new ServiceProperties.Placement("b:1", 9, run), Map.of());
        assertThat(p).containsEntry("millrace.topic-prefix", "team-a").containsEntry("millrace.stages", "sft")
                .containsEntry("quarkus.kafka-streams.topics", "team-a.sft.templated,team-a.sft.tokenized,team-a.dlq");
    }

    @Test
    void theServicesOwnSettingsAreExactlyTheOnesTheContractWritesUnderTheNamesTheServicesMap(@TempDir Path run) {
        // Each service module tests that its typed config maps every key of ServiceSettings.properties(service):
        // so the CLI must write no millrace.* key of its own.
        for (PipelineService s : PipelineService.values()) {
            Map<String, String> own = new LinkedHashMap<>();
            of(s, run, 7).forEach((key, value) -> {
                if (key.startsWith("millrace.")) {
                    own.put(key, value);
                }
            });
            assertThat(own).as(s.id()).containsExactlyEntriesOf(ALL_STAGES.properties(s));
        }
    }

    @Test
    void theCallersOwnPropertiesComeLastAndWin(@TempDir Path run) {
        Map<String, String> p = ServiceProperties.of(PipelineService.LOSS_MASK, ALL_STAGES, new ServiceProperties.Placement("127.0.0.1:1", 10, run),
                Map.of("millrace.sft.packing", "off", "millrace.tokenizer", "/tok"));
        assertThat(p).containsEntry("millrace.sft.packing", "off").containsEntry("millrace.tokenizer", "/tok");
    }

    @Test
    void theTeacherGetsThePrefixItsCheckpointAndItsOwnSettingsUnderItsGroup(@TempDir Path run) {
        TeacherOptions teacher = new TeacherOptions(run.resolve("dpo/step-00000010")).maxNewTokens(24).sampling(0.8, 0.9).onMaxNewTokens("close")
                .set("commit-every-prompts", 4);
        Map<String, String> p = ServiceProperties.ofTeacher(teacher, ALL_STAGES, new ServiceProperties.Placement("127.0.0.1:1", 11, run),
                Map.of("millrace.teacher.max-new-tokens", "32"));
        assertThat(p).containsEntry("quarkus.http.host", "127.0.0.1").containsEntry("quarkus.http.port", "11")
                .containsEntry("kafka.bootstrap.servers", "127.0.0.1:1").containsEntry("millrace.topic-prefix", "millrace")
                .containsEntry("millrace.teacher.checkpoint", run.resolve("dpo/step-00000010").toAbsolutePath().toString())
                .containsEntry("millrace.teacher.max-new-tokens", "32").containsEntry("millrace.teacher.temperature", "0.8")
                .containsEntry("millrace.teacher.top-p", "0.9").containsEntry("millrace.teacher.on-max-new-tokens", "close")
                .containsEntry("millrace.teacher.commit-every-prompts", "4")
                .doesNotContainKeys("millrace.stages", "millrace.seq-len", "quarkus.kafka-streams.topics");
        // Only keys the teacher reads (its config test maps exactly these; an unknown millrace.* key would stop it).
        p.keySet().stream().filter(k -> k.startsWith("millrace.")).forEach(k ->
                assertThat(dev.millrace.contract.SettingNames.readByTeacher()).as(k).contains(k));
    }
}
