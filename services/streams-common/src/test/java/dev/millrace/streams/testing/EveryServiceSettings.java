package dev.millrace.streams.testing;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.core.record.Stage;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A valid value for every key each service reads, as one configuration given to every service would
 * carry them: what the CLI's local run writes ({@link ServiceSettings#properties}) and the rest of each
 * service's rows in docs/architecture.md#service-settings, written out here rather than taken from
 * contract's SettingNames, so that the tests of the unknown-key rule check that list against the keys.
 * Uses only the contract, so ingest's and the trainer's tests (no Kafka Streams) use it too.
 */
public final class EveryServiceSettings {
    private static final ServiceSettings LOCAL_RUN = new ServiceSettings(List.of(Stage.PRETRAIN, Stage.SFT), "acme", 128, 4, 700,
            EnumSet.of(Stage.PRETRAIN));
    private static final Map<String, String> PER_STAGE = Map.of("mask-rule", "span", "train-on", "last",
            "special-tokens-in-content", "reject", "system-prompt", "Be brief.", "partial-render", "accept", "wrap", "never", "pretrain-overflow", "split",
            "packing", "off", "pack-buffer", "8");

    private EveryServiceSettings() {
    }

    /** Every key {@code service} reads, with a valid value. */
    public static Map<String, String> of(PipelineService service) {
        Map<String, String> settings = new TreeMap<>(LOCAL_RUN.properties(service));
        if (service.isStreamsApp()) {
            settings.put("millrace.service", service.id());
            settings.put("millrace.tokenizer", "/models/tok");
            settings.put("millrace.stuck-record-after-ms", "90000");
            settings.put("millrace.fault-injection.throw-on-records", service.id() + ":" + "0".repeat(64));
            PER_STAGE.forEach((name, value) -> {
                settings.put("millrace." + name, value);
                for (Stage stage : Stage.values()) {
                    settings.putIfAbsent("millrace." + stage.id() + "." + name, value); // the local run's packing stays
                }
            });
        }
        switch (service) {
            case INGEST -> settings.putAll(Map.of("millrace.ingest.max-record-bytes", "4096", "millrace.ingest.max-body-bytes", "65536",
                    "millrace.ingest.drop-dir", "", "millrace.ingest.drop-poll-ms", "100", "millrace.ingest.drop-chunk-lines", "3",
                    "millrace.ingest.drop-chunk-bytes", "9000", "millrace.ingest.max-concurrent-requests", "2"));
            case CHAT_TEMPLATE -> settings.putAll(Map.of("millrace.dedup.retention-ms", "1000", "millrace.dedup.expiry-max-per-run", "5",
                    "millrace.max-messages", "300", "millrace.record-time-budget-ms", "2000"));
            case LOSS_MASK -> settings.put("millrace.pack-linger-ms", "900");
            case TOKENIZE -> {
            }
        }
        return settings;
    }

    /** Every key the trainer reads, with a valid value (the shared ones as the pipeline services get them). */
    public static Map<String, String> ofTrainer() {
        Map<String, String> settings = new TreeMap<>(Map.of("millrace.topic-prefix", "acme", "millrace.tokenizer", "/models/tok",
                "millrace.seq-len", "128"));
        settings.putAll(Map.ofEntries(Map.entry("millrace.trainer.stage", "distill"), Map.entry("millrace.trainer.checkpoint-dir", "/ckpt"),
                Map.entry("millrace.trainer.keep-checkpoints", "2"), Map.entry("millrace.trainer.init", "/init"),
                Map.entry("millrace.trainer.model", "tiny"), Map.entry("millrace.trainer.seed", "3"), Map.entry("millrace.trainer.lr", "1e-3"),
                Map.entry("millrace.trainer.warmup-steps", "5"), Map.entry("millrace.trainer.weight-decay", "0.1"),
                Map.entry("millrace.trainer.beta1", "0.8"), Map.entry("millrace.trainer.beta2", "0.95"),
                Map.entry("millrace.trainer.clip-norm", "0.5"), Map.entry("millrace.trainer.accumulation", "2"),
                Map.entry("millrace.trainer.checkpoint-every-steps", "50"), Map.entry("millrace.trainer.checkpoint-interval", "5m"),
                Map.entry("millrace.trainer.max-steps", "1000"), Map.entry("millrace.trainer.until-idle", "30s"),
                Map.entry("millrace.trainer.passes", "1"), Map.entry("millrace.trainer.eval-file", "/eval.jsonl"),
                Map.entry("millrace.trainer.eval-every-steps", "20"), Map.entry("millrace.trainer.progress-every-steps", "5"),
                Map.entry("millrace.trainer.stuck-after", "2m"), Map.entry("millrace.trainer.dpo-beta", "0.25"),
                Map.entry("millrace.trainer.dpo-logprob", "mean"), Map.entry("millrace.trainer.distill-teacher", "/teacher"),
                Map.entry("millrace.trainer.distill-alpha", "0.25"), Map.entry("millrace.trainer.distill-temperature", "2.0")));
        return settings;
    }

    /** Every key the teacher reads, with a valid value (the shared ones as the pipeline services get them). */
    public static Map<String, String> ofTeacher() {
        Map<String, String> settings = new TreeMap<>(Map.of("millrace.topic-prefix", "acme", "millrace.tokenizer", "/models/tok"));
        settings.putAll(Map.of("millrace.teacher.checkpoint", "/ckpt/step-00000100", "millrace.teacher.max-new-tokens", "64",
                "millrace.teacher.temperature", "0.7", "millrace.teacher.top-p", "0.9", "millrace.teacher.on-max-new-tokens", "close",
                "millrace.teacher.max-prompt-tokens", "1024", "millrace.teacher.commit-every-prompts", "8", "millrace.teacher.commit-interval", "2s",
                "millrace.teacher.instance-id", "teacher-3", "millrace.teacher.stuck-after", "90s"));
        return settings;
    }

    /** The keys the other services (the trainer and the teacher among them) read and {@code service} does not, with a valid value. */
    public static Map<String, String> ofServicesOtherThan(PipelineService service) {
        Map<String, String> settings = new TreeMap<>(ofTrainer());
        settings.putAll(ofTeacher());
        for (PipelineService other : PipelineService.values()) {
            if (other != service) {
                settings.putAll(of(other));
            }
        }
        settings.keySet().removeAll(of(service).keySet());
        return settings;
    }

    /** The keys the pipeline services and the teacher read and the trainer does not, with a valid value. */
    public static Map<String, String> ofServicesOtherThanTrainer() {
        Map<String, String> settings = new TreeMap<>(ofTeacher());
        for (PipelineService service : PipelineService.values()) {
            settings.putAll(of(service));
        }
        settings.keySet().removeAll(ofTrainer().keySet());
        return settings;
    }

    /** The keys the pipeline services and the trainer read and the teacher does not, with a valid value. */
    public static Map<String, String> ofServicesOtherThanTeacher() {
        Map<String, String> settings = new TreeMap<>(ofTrainer());
        for (PipelineService service : PipelineService.values()) {
            settings.putAll(of(service));
        }
        settings.keySet().removeAll(ofTeacher().keySet());
        return settings;
    }
}
