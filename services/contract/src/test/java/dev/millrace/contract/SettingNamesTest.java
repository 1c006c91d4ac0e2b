package dev.millrace.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Stage;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Which service reads which key, and what each one lets through its unknown-key check. That each
 * service's typed config maps exactly {@link SettingNames#readBy} is tested in the service's module.
 */
class SettingNamesTest {

    @Test
    void keysAreThePrefixTheGroupAndTheName() {
        assertThat(SettingNames.key(SettingNames.SEQ_LEN)).isEqualTo("millrace.seq-len");
        assertThat(SettingNames.key(SettingNames.DEDUP, SettingNames.RETENTION_MS)).isEqualTo("millrace.dedup.retention-ms");
        assertThat(SettingNames.key(Stage.DPO, SettingNames.PACKING)).isEqualTo("millrace.dpo.packing");
    }

    @Test
    void ingestReadsTheCommonKeysAndItsOwn() {
        assertThat(SettingNames.readBy(PipelineService.INGEST)).containsExactly("millrace.ingest.drop-chunk-bytes",
                "millrace.ingest.drop-chunk-lines", "millrace.ingest.drop-dir", "millrace.ingest.drop-poll-ms",
                "millrace.ingest.max-body-bytes", "millrace.ingest.max-record-bytes", "millrace.stages", "millrace.topic-prefix");
    }

    @Test
    void everyStreamsServiceReadsTheCommonKeysAndThePerStageOptionsForEveryStageAndEachStage() {
        for (PipelineService service : EnumSet.of(PipelineService.CHAT_TEMPLATE, PipelineService.TOKENIZE, PipelineService.LOSS_MASK)) {
            assertThat(SettingNames.readBy(service)).as(service.id())
                    .contains("millrace.stages", "millrace.topic-prefix", "millrace.service", "millrace.tokenizer",
                            "millrace.mask-rule", "millrace.sft.mask-rule", "millrace.pretrain.wrap", "millrace.distill.system-prompt",
                            "millrace.packing", "millrace.dpo.packing", "millrace.pack-buffer", "millrace.pretrain.pack-buffer")
                    .hasSize(4 + SettingNames.PER_STAGE.size() * (1 + Stage.values().length)
                            + (service == PipelineService.CHAT_TEMPLATE ? 2 : service == PipelineService.LOSS_MASK ? 4 : 0))
                    .noneMatch(key -> key.startsWith("millrace.ingest."));
        }
        assertThat(SettingNames.readBy(PipelineService.CHAT_TEMPLATE)).contains("millrace.dedup.retention-ms", "millrace.dedup.expiry-max-per-run")
                .doesNotContain("millrace.seq-len");
        assertThat(SettingNames.readBy(PipelineService.LOSS_MASK))
                .contains("millrace.seq-len", "millrace.batch-size", "millrace.batch-linger-ms", "millrace.pack-linger-ms")
                .doesNotContain("millrace.dedup.retention-ms");
    }

    @Test
    void aServiceLetsThroughExactlyTheKeysOnlyTheOtherServicesReadAndTheRepoRoot() {
        assertThat(SettingNames.readByOtherServices(PipelineService.TOKENIZE)).containsExactly("millrace.batch-linger-ms", "millrace.batch-size",
                "millrace.dedup.expiry-max-per-run", "millrace.dedup.retention-ms", "millrace.ingest.drop-chunk-bytes",
                "millrace.ingest.drop-chunk-lines", "millrace.ingest.drop-dir", "millrace.ingest.drop-poll-ms",
                "millrace.ingest.max-body-bytes", "millrace.ingest.max-record-bytes", "millrace.pack-linger-ms", "millrace.seq-len");
        assertThat(SettingNames.readByOtherServices(PipelineService.INGEST)).contains("millrace.service", "millrace.seq-len",
                "millrace.sft.mask-rule", "millrace.dedup.retention-ms").doesNotContain("millrace.stages", "millrace.ingest.drop-dir");

        Set<String> everyKey = new TreeSet<>();
        List.of(PipelineService.values()).forEach(s -> everyKey.addAll(SettingNames.readBy(s)));
        for (PipelineService service : PipelineService.values()) {
            assertThat(SettingNames.letThrough(service)).as(service.id()).contains("millrace.repo.root")
                    .doesNotContainAnyElementsOf(SettingNames.readBy(service))
                    .containsAll(SettingNames.readByOtherServices(service))
                    .hasSize(SettingNames.readByOtherServices(service).size() + 1);
            Set<String> readOrLetThrough = new TreeSet<>(SettingNames.readBy(service));
            readOrLetThrough.addAll(SettingNames.letThrough(service));
            everyKey.add("millrace.repo.root");
            assertThat(readOrLetThrough).as(service.id()).isEqualTo(everyKey);
        }
    }

    @Test
    void misspeltKeysAreNeitherReadNorLetThrough() {
        for (PipelineService service : PipelineService.values()) {
            Set<String> known = new TreeSet<>(SettingNames.readBy(service));
            known.addAll(SettingNames.letThrough(service));
            assertThat(known).as(service.id()).doesNotContain("millrace.ingest.max-record-byte", "millrace.seq-lne", "millrace.sft.mask-rul",
                    "millrace.ingest", "millrace.sft");
        }
    }

    @Test
    void theLocalRunWritesOnlyKeysTheServiceReads() {
        ServiceSettings all = new ServiceSettings(List.of(Stage.values()), "acme", 128, 4, 700, EnumSet.allOf(Stage.class));
        for (PipelineService service : PipelineService.values()) {
            assertThat(SettingNames.readBy(service)).as(service.id()).containsAll(all.properties(service).keySet());
        }
    }
}
