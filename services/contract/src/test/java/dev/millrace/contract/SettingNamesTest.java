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
                "millrace.ingest.max-body-bytes", "millrace.ingest.max-concurrent-requests", "millrace.ingest.max-record-bytes", "millrace.stages",
                "millrace.topic-prefix");
    }

    @Test
    void everyStreamsServiceReadsTheCommonKeysAndThePerStageOptionsForEveryStageAndEachStage() {
        for (PipelineService service : EnumSet.of(PipelineService.CHAT_TEMPLATE, PipelineService.TOKENIZE, PipelineService.LOSS_MASK)) {
            assertThat(SettingNames.readBy(service)).as(service.id())
                    .contains("millrace.stages", "millrace.topic-prefix", "millrace.service", "millrace.tokenizer",
                            "millrace.stuck-record-after-ms", "millrace.mask-rule", "millrace.sft.mask-rule", "millrace.pretrain.wrap", "millrace.distill.system-prompt",
                            "millrace.packing", "millrace.dpo.packing", "millrace.pack-buffer", "millrace.pretrain.pack-buffer",
                            "millrace.fault-injection.throw-on-records")
                    .hasSize(6 + SettingNames.PER_STAGE.size() * (1 + Stage.values().length)
                            + (service == PipelineService.CHAT_TEMPLATE ? 4 : service == PipelineService.LOSS_MASK ? 4 : 0))
                    .noneMatch(key -> key.startsWith("millrace.ingest."));
        }
        assertThat(SettingNames.readBy(PipelineService.CHAT_TEMPLATE)).contains("millrace.dedup.retention-ms", "millrace.dedup.expiry-max-per-run",
                "millrace.max-messages", "millrace.record-time-budget-ms").doesNotContain("millrace.seq-len");
        assertThat(SettingNames.readBy(PipelineService.LOSS_MASK))
                .contains("millrace.seq-len", "millrace.batch-size", "millrace.batch-linger-ms", "millrace.pack-linger-ms")
                .doesNotContain("millrace.dedup.retention-ms");
    }

    @Test
    void theTrainerReadsThePrefixTheTokenizerTAndItsOwnKeys() {
        assertThat(SettingNames.readByTrainer()).containsExactly("millrace.seq-len", "millrace.tokenizer", "millrace.topic-prefix",
                "millrace.trainer.accumulation", "millrace.trainer.beta1", "millrace.trainer.beta2", "millrace.trainer.checkpoint-dir",
                "millrace.trainer.checkpoint-every-steps", "millrace.trainer.checkpoint-interval", "millrace.trainer.clip-norm",
                "millrace.trainer.distill-alpha", "millrace.trainer.distill-teacher", "millrace.trainer.distill-temperature",
                "millrace.trainer.dpo-beta", "millrace.trainer.dpo-logprob", "millrace.trainer.eval-every-steps", "millrace.trainer.eval-file", "millrace.trainer.init", "millrace.trainer.keep-checkpoints",
                "millrace.trainer.lr", "millrace.trainer.max-steps", "millrace.trainer.model", "millrace.trainer.passes",
                "millrace.trainer.progress-every-steps", "millrace.trainer.seed", "millrace.trainer.stage", "millrace.trainer.stuck-after",
                "millrace.trainer.until-idle", "millrace.trainer.warmup-steps", "millrace.trainer.weight-decay");
        for (PipelineService service : PipelineService.values()) {
            assertThat(SettingNames.readBy(service)).as(service.id()).noneMatch(key -> key.startsWith("millrace.trainer."));
        }
    }

    @Test
    void theTeacherReadsThePrefixTheTokenizerAndItsOwnKeys() {
        assertThat(SettingNames.readByTeacher()).containsExactly("millrace.teacher.checkpoint", "millrace.teacher.commit-every-prompts",
                "millrace.teacher.commit-interval", "millrace.teacher.instance-id", "millrace.teacher.max-new-tokens",
                "millrace.teacher.max-prompt-tokens", "millrace.teacher.on-max-new-tokens", "millrace.teacher.stuck-after",
                "millrace.teacher.temperature", "millrace.teacher.top-p", "millrace.tokenizer", "millrace.topic-prefix");
        assertThat(SettingNames.readByTrainer()).noneMatch(key -> key.startsWith("millrace.teacher."));
        for (PipelineService service : PipelineService.values()) {
            assertThat(SettingNames.readBy(service)).as(service.id()).noneMatch(key -> key.startsWith("millrace.teacher."));
        }
    }

    @Test
    void aServiceLetsThroughExactlyTheKeysOnlyTheOtherServicesReadAndTheRepoRoot() {
        assertThat(SettingNames.readByOtherServices(PipelineService.TOKENIZE)).containsExactly("millrace.batch-linger-ms", "millrace.batch-size",
                "millrace.dedup.expiry-max-per-run", "millrace.dedup.retention-ms", "millrace.ingest.drop-chunk-bytes",
                "millrace.ingest.drop-chunk-lines", "millrace.ingest.drop-dir", "millrace.ingest.drop-poll-ms",
                "millrace.ingest.max-body-bytes", "millrace.ingest.max-concurrent-requests", "millrace.ingest.max-record-bytes",
                "millrace.max-messages", "millrace.pack-linger-ms", "millrace.record-time-budget-ms", "millrace.seq-len",
                "millrace.teacher.checkpoint", "millrace.teacher.commit-every-prompts", "millrace.teacher.commit-interval",
                "millrace.teacher.instance-id", "millrace.teacher.max-new-tokens", "millrace.teacher.max-prompt-tokens",
                "millrace.teacher.on-max-new-tokens", "millrace.teacher.stuck-after", "millrace.teacher.temperature", "millrace.teacher.top-p",
                "millrace.trainer.accumulation", "millrace.trainer.beta1", "millrace.trainer.beta2", "millrace.trainer.checkpoint-dir",
                "millrace.trainer.checkpoint-every-steps", "millrace.trainer.checkpoint-interval", "millrace.trainer.clip-norm",
                "millrace.trainer.distill-alpha", "millrace.trainer.distill-teacher", "millrace.trainer.distill-temperature",
                "millrace.trainer.dpo-beta", "millrace.trainer.dpo-logprob", "millrace.trainer.eval-every-steps", "millrace.trainer.eval-file", "millrace.trainer.init", "millrace.trainer.keep-checkpoints",
                "millrace.trainer.lr", "millrace.trainer.max-steps", "millrace.trainer.model", "millrace.trainer.passes",
                "millrace.trainer.progress-every-steps", "millrace.trainer.seed", "millrace.trainer.stage", "millrace.trainer.stuck-after",
                "millrace.trainer.until-idle", "millrace.trainer.warmup-steps", "millrace.trainer.weight-decay");
        assertThat(SettingNames.readByOtherServices(PipelineService.INGEST)).contains("millrace.service", "millrace.seq-len",
                "millrace.sft.mask-rule", "millrace.dedup.retention-ms", "millrace.trainer.stage", "millrace.trainer.max-steps")
                .doesNotContain("millrace.stages", "millrace.ingest.drop-dir");
        assertThat(SettingNames.readByServicesOtherThanTrainer()).contains("millrace.stages", "millrace.service", "millrace.sft.mask-rule",
                "millrace.batch-size", "millrace.ingest.drop-dir", "millrace.dedup.retention-ms")
                .doesNotContain("millrace.seq-len", "millrace.tokenizer", "millrace.topic-prefix", "millrace.trainer.stage")
                .noneMatch(key -> key.startsWith("millrace.trainer."));

        Set<String> everyKey = new TreeSet<>(SettingNames.readByTrainer());
        everyKey.addAll(SettingNames.readByTeacher());
        List.of(PipelineService.values()).forEach(s -> everyKey.addAll(SettingNames.readBy(s)));
        everyKey.add("millrace.repo.root");
        Set<String> trainerReadsOrLetsThrough = new TreeSet<>(SettingNames.readByTrainer());
        trainerReadsOrLetsThrough.addAll(SettingNames.letThroughTrainer());
        assertThat(trainerReadsOrLetsThrough).isEqualTo(everyKey);
        assertThat(SettingNames.letThroughTrainer()).contains("millrace.repo.root").doesNotContainAnyElementsOf(SettingNames.readByTrainer())
                .hasSize(SettingNames.readByServicesOtherThanTrainer().size() + 1);
        Set<String> teacherReadsOrLetsThrough = new TreeSet<>(SettingNames.readByTeacher());
        teacherReadsOrLetsThrough.addAll(SettingNames.letThroughTeacher());
        assertThat(teacherReadsOrLetsThrough).isEqualTo(everyKey);
        assertThat(SettingNames.letThroughTeacher()).contains("millrace.repo.root", "millrace.trainer.stage", "millrace.stages", "millrace.seq-len")
                .doesNotContainAnyElementsOf(SettingNames.readByTeacher())
                .hasSize(SettingNames.readByServicesOtherThanTeacher().size() + 1);
        assertThat(SettingNames.letThroughTrainer()).contains("millrace.teacher.checkpoint", "millrace.teacher.max-new-tokens");
        for (PipelineService service : PipelineService.values()) {
            assertThat(SettingNames.letThrough(service)).as(service.id()).contains("millrace.repo.root")
                    .doesNotContainAnyElementsOf(SettingNames.readBy(service))
                    .containsAll(SettingNames.readByOtherServices(service))
                    .hasSize(SettingNames.readByOtherServices(service).size() + 1);
            Set<String> readOrLetThrough = new TreeSet<>(SettingNames.readBy(service));
            readOrLetThrough.addAll(SettingNames.letThrough(service));
            assertThat(readOrLetThrough).as(service.id()).isEqualTo(everyKey);
        }
    }

    @Test
    void misspeltKeysAreNeitherReadNorLetThrough() {
        for (PipelineService service : PipelineService.values()) {
            Set<String> known = new TreeSet<>(SettingNames.readBy(service));
            known.addAll(SettingNames.letThrough(service));
            assertThat(known).as(service.id()).doesNotContain("millrace.ingest.max-record-byte", "millrace.seq-lne", "millrace.sft.mask-rul",
                    "millrace.ingest", "millrace.sft", "millrace.trainer", "millrace.trainer.max-step", "millrace.trainer.learning-rate");
        }
        Set<String> trainerKnows = new TreeSet<>(SettingNames.readByTrainer());
        trainerKnows.addAll(SettingNames.letThroughTrainer());
        assertThat(trainerKnows).doesNotContain("millrace.trainer", "millrace.trainer.max-step", "millrace.trainer.learning-rate",
                "millrace.trainer.stages", "millrace.seq-lne", "millrace.ingest.max-record-byte", "millrace.teacher.max-tokens");
        Set<String> teacherKnows = new TreeSet<>(SettingNames.readByTeacher());
        teacherKnows.addAll(SettingNames.letThroughTeacher());
        assertThat(teacherKnows).doesNotContain("millrace.teacher", "millrace.teacher.max-tokens", "millrace.teacher.checkpoint-dir",
                "millrace.teacher.top_p", "millrace.seq-lne", "millrace.ingest.max-record-byte");
    }

    @Test
    void theLocalRunWritesOnlyKeysTheServiceReads() {
        ServiceSettings all = new ServiceSettings(List.of(Stage.values()), "acme", 128, 4, 700, EnumSet.allOf(Stage.class));
        for (PipelineService service : PipelineService.values()) {
            assertThat(SettingNames.readBy(service)).as(service.id()).containsAll(all.properties(service).keySet());
        }
    }
}
