package dev.millrace.contract;

import dev.millrace.core.record.Stage;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The names of the services' own settings, each written once: the services' typed configs
 * ({@code @ConfigMapping(prefix = SettingNames.PREFIX)}) name their keys with these, and the CLI's
 * local run writes them through {@link ServiceSettings}. A name is relative to {@link #PREFIX};
 * {@link #key} gives the full key. What each one means and its default: docs/architecture.md#service-settings.
 *
 * <p>Which service reads which key is stated here too ({@link #readBy}, {@link #readByTrainer}), for
 * the one rule on unknown keys: a service refuses a key under {@code millrace.} that it does not read,
 * unless another service reads it ({@link #letThrough}, {@link #letThroughTrainer}), so one configuration
 * may serve every service and a misspelt key still stops the service that sees it.
 *
 * <p>The trainer and the teacher are services too but not {@link PipelineService}s: those are the four services a
 * local run starts once each, and the trainer (one per stage) and the teacher come after them. So their keys have
 * methods of their own here, and every other service's list includes their keys among the other services'.
 */
public final class SettingNames {
    public static final String PREFIX = "millrace";

    // Every service.
    public static final String STAGES = "stages";
    public static final String TOPIC_PREFIX = "topic-prefix";
    /** The stages served when none are configured, as the setting's value. */
    public static final String DEFAULT_STAGES = "sft";
    public static final String DEFAULT_TOPIC_PREFIX = "millrace";

    // Every Kafka Streams service.
    /** Which {@link PipelineService} a Kafka Streams app is (its id), set in its application.properties. */
    public static final String SERVICE = "service";
    /** The tokenizer folder; none: the bundled one. */
    public static final String TOKENIZER = "tokenizer";
    /** Liveness DOWN while one record has been in process longer than this (docs/failures.md#a-record-that-takes-too-long). */
    public static final String STUCK_RECORD_AFTER_MS = "stuck-record-after-ms";
    public static final String DEFAULT_STUCK_RECORD_AFTER_MS = "60000";

    // Per stage ({@code <stage>.<name>}), else for every stage ({@code <name>}).
    public static final String MASK_RULE = "mask-rule";
    public static final String TRAIN_ON = "train-on";
    public static final String SPECIAL_TOKENS_IN_CONTENT = "special-tokens-in-content";
    public static final String SYSTEM_PROMPT = "system-prompt";
    public static final String PARTIAL_RENDER = "partial-render";
    public static final String WRAP = "wrap";
    public static final String PRETRAIN_OVERFLOW = "pretrain-overflow";
    public static final String PACKING = "packing";
    public static final String PACK_BUFFER = "pack-buffer";

    // chat-template: the duplicate drop ({@code dedup.<name>}).
    public static final String DEDUP = "dedup";
    public static final String RETENTION_MS = "retention-ms";
    public static final String EXPIRY_MAX_PER_RUN = "expiry-max-per-run";

    // chat-template: the bounds on one record's template work (docs/failures.md#a-record-that-takes-too-long).
    public static final String MAX_MESSAGES = "max-messages";
    public static final String RECORD_TIME_BUDGET_MS = "record-time-budget-ms";

    // ingest: its own settings ({@code ingest.<name>}).
    public static final String INGEST = "ingest";
    public static final String MAX_RECORD_BYTES = "max-record-bytes";
    public static final String MAX_BODY_BYTES = "max-body-bytes";
    public static final String MAX_CONCURRENT_REQUESTS = "max-concurrent-requests";
    public static final String DROP_DIR = "drop-dir";
    public static final String DROP_POLL_MS = "drop-poll-ms";
    public static final String DROP_CHUNK_LINES = "drop-chunk-lines";
    public static final String DROP_CHUNK_BYTES = "drop-chunk-bytes";

    // Every Streams service, for tests only ({@code fault-injection.<name>}, docs/failures.md#fault-injection-tests-only):
    // entries {@code <service>:<record id>}; that service's step throws an unexpected exception on that record.
    public static final String FAULT_INJECTION = "fault-injection";
    public static final String THROW_ON_RECORDS = "throw-on-records";

    /**
     * Not a service setting: the repository root, a system property of the {@code millrace} launcher
     * (for the CLI) and of the build's test JVMs, so a service may see it among its keys. No service
     * reads it and every one lets it through ({@link #letThrough}).
     */
    public static final String REPO_ROOT = "repo.root";

    // loss-mask (and the trainer: the T its batches must have).
    public static final String SEQ_LEN = "seq-len";
    /** T when none is configured, as the setting's value: loss-mask writes batches of it, the trainer expects them. */
    public static final String DEFAULT_SEQ_LEN = "512";
    public static final String BATCH_SIZE = "batch-size";
    public static final String BATCH_LINGER_MS = "batch-linger-ms";
    public static final String PACK_LINGER_MS = "pack-linger-ms";

    // The trainer: its own settings ({@code trainer.<name>}); it also reads TOPIC_PREFIX, TOKENIZER and SEQ_LEN.
    public static final String TRAINER = "trainer";
    public static final String STAGE = "stage";
    public static final String CHECKPOINT_DIR = "checkpoint-dir";
    public static final String KEEP_CHECKPOINTS = "keep-checkpoints";
    public static final String INIT = "init";
    public static final String MODEL = "model";
    public static final String SEED = "seed";
    public static final String LR = "lr";
    public static final String WARMUP_STEPS = "warmup-steps";
    public static final String WEIGHT_DECAY = "weight-decay";
    public static final String BETA1 = "beta1";
    public static final String BETA2 = "beta2";
    public static final String CLIP_NORM = "clip-norm";
    public static final String ACCUMULATION = "accumulation";
    public static final String CHECKPOINT_EVERY_STEPS = "checkpoint-every-steps";
    public static final String CHECKPOINT_INTERVAL = "checkpoint-interval";
    public static final String MAX_STEPS = "max-steps";
    public static final String UNTIL_IDLE = "until-idle";
    public static final String PASSES = "passes";
    public static final String EVAL_FILE = "eval-file";
    public static final String EVAL_EVERY_STEPS = "eval-every-steps";
    public static final String PROGRESS_EVERY_STEPS = "progress-every-steps";
    public static final String STUCK_AFTER = "stuck-after";
    public static final String DPO_BETA = "dpo-beta";
    public static final String DPO_LOGPROB = "dpo-logprob";

    // The trainer, logit-level distillation (issue 12): a frozen teacher checkpoint in the trainer's pod, α and τ of its loss.
    public static final String DISTILL_TEACHER = "distill-teacher";
    public static final String DISTILL_ALPHA = "distill-alpha";
    public static final String DISTILL_TEMPERATURE = "distill-temperature";

    // The teacher service ({@code teacher.<name>}); it also reads TOPIC_PREFIX and TOKENIZER.
    public static final String TEACHER = "teacher";
    public static final String CHECKPOINT = "checkpoint";
    public static final String MAX_NEW_TOKENS = "max-new-tokens";
    public static final String TEMPERATURE = "temperature";
    public static final String TOP_P = "top-p";
    public static final String ON_MAX_NEW_TOKENS = "on-max-new-tokens";
    public static final String MAX_PROMPT_TOKENS = "max-prompt-tokens";
    public static final String COMMIT_EVERY_PROMPTS = "commit-every-prompts";
    public static final String COMMIT_INTERVAL = "commit-interval";
    /** Its transactional id and static group member id: stable per instance, unique among running instances. */
    public static final String INSTANCE_ID = "instance-id";

    /** The teacher's own settings, each given as {@code teacher.<name>} ({@link #STUCK_AFTER} too). */
    public static final List<String> TEACHER_SETTINGS = List.of(CHECKPOINT, MAX_NEW_TOKENS, TEMPERATURE, TOP_P, ON_MAX_NEW_TOKENS,
            MAX_PROMPT_TOKENS, COMMIT_EVERY_PROMPTS, COMMIT_INTERVAL, INSTANCE_ID, STUCK_AFTER);

    /** The trainer's own settings, each given as {@code trainer.<name>}. */
    public static final List<String> TRAINER_SETTINGS = List.of(STAGE, CHECKPOINT_DIR, KEEP_CHECKPOINTS, INIT, MODEL, SEED, LR, WARMUP_STEPS,
            WEIGHT_DECAY, BETA1, BETA2, CLIP_NORM, ACCUMULATION, CHECKPOINT_EVERY_STEPS, CHECKPOINT_INTERVAL, MAX_STEPS, UNTIL_IDLE, PASSES,
            EVAL_FILE, EVAL_EVERY_STEPS, PROGRESS_EVERY_STEPS, STUCK_AFTER, DPO_BETA, DPO_LOGPROB, DISTILL_TEACHER, DISTILL_ALPHA,
            DISTILL_TEMPERATURE);

    /** The per-stage options, each given as {@code <stage>.<name>} or {@code <name>}. */
    public static final List<String> PER_STAGE = List.of(MASK_RULE, TRAIN_ON, SPECIAL_TOKENS_IN_CONTENT, SYSTEM_PROMPT, PARTIAL_RENDER, WRAP,
            PRETRAIN_OVERFLOW, PACKING, PACK_BUFFER);

    private static final Map<PipelineService, SortedSet<String>> READ_BY = readByService();
    private static final SortedSet<String> READ_BY_TRAINER = readByTrainerService();
    private static final SortedSet<String> READ_BY_TEACHER = readByTeacherService();

    private SettingNames() {
    }

    private static Map<PipelineService, SortedSet<String>> readByService() {
        Set<String> everyService = Set.of(key(STAGES), key(TOPIC_PREFIX));
        Set<String> everyStreamsApp = new TreeSet<>(List.of(key(SERVICE), key(TOKENIZER), key(STUCK_RECORD_AFTER_MS),
                key(FAULT_INJECTION, THROW_ON_RECORDS)));
        for (String name : PER_STAGE) {
            everyStreamsApp.add(key(name));
            for (Stage stage : Stage.values()) {
                everyStreamsApp.add(key(stage, name));
            }
        }
        Map<PipelineService, Set<String>> own = Map.of(
                PipelineService.INGEST, Set.of(key(INGEST, MAX_RECORD_BYTES), key(INGEST, MAX_BODY_BYTES), key(INGEST, MAX_CONCURRENT_REQUESTS), key(INGEST, DROP_DIR),
                        key(INGEST, DROP_POLL_MS), key(INGEST, DROP_CHUNK_LINES), key(INGEST, DROP_CHUNK_BYTES)),
                PipelineService.CHAT_TEMPLATE, Set.of(key(DEDUP, RETENTION_MS), key(DEDUP, EXPIRY_MAX_PER_RUN), key(MAX_MESSAGES),
                        key(RECORD_TIME_BUDGET_MS)),
                PipelineService.TOKENIZE, Set.of(),
                PipelineService.LOSS_MASK, Set.of(key(SEQ_LEN), key(BATCH_SIZE), key(BATCH_LINGER_MS), key(PACK_LINGER_MS)));
        Map<PipelineService, SortedSet<String>> readBy = new EnumMap<>(PipelineService.class);
        for (PipelineService service : PipelineService.values()) {
            SortedSet<String> keys = new TreeSet<>(everyService);
            if (service.isStreamsApp()) {
                keys.addAll(everyStreamsApp);
            }
            keys.addAll(own.get(service));
            readBy.put(service, Collections.unmodifiableSortedSet(keys));
        }
        return readBy;
    }

    private static SortedSet<String> readByTrainerService() {
        SortedSet<String> keys = new TreeSet<>(List.of(key(TOPIC_PREFIX), key(TOKENIZER), key(SEQ_LEN)));
        TRAINER_SETTINGS.forEach(name -> keys.add(key(TRAINER, name)));
        return Collections.unmodifiableSortedSet(keys);
    }

    private static SortedSet<String> readByTeacherService() {
        SortedSet<String> keys = new TreeSet<>(List.of(key(TOPIC_PREFIX), key(TOKENIZER)));
        TEACHER_SETTINGS.forEach(name -> keys.add(key(TEACHER, name)));
        return Collections.unmodifiableSortedSet(keys);
    }

    /** Every key under {@link #PREFIX} that {@code service}'s typed config reads (full keys, sorted). */
    public static SortedSet<String> readBy(PipelineService service) {
        return READ_BY.get(service);
    }

    /** Every key under {@link #PREFIX} that the trainer's typed config reads (full keys, sorted). */
    public static SortedSet<String> readByTrainer() {
        return READ_BY_TRAINER;
    }

    /** Every key under {@link #PREFIX} that the teacher's typed config reads (full keys, sorted). */
    public static SortedSet<String> readByTeacher() {
        return READ_BY_TEACHER;
    }

    /** The keys the other services (the other pipeline services, the trainer and the teacher) read and {@code service} does not (full keys, sorted). */
    public static SortedSet<String> readByOtherServices(PipelineService service) {
        SortedSet<String> keys = readByAnyService();
        keys.removeAll(readBy(service));
        return Collections.unmodifiableSortedSet(keys);
    }

    /** The keys the pipeline services and the teacher read and the trainer does not (full keys, sorted). */
    public static SortedSet<String> readByServicesOtherThanTrainer() {
        SortedSet<String> keys = readByAnyService();
        keys.removeAll(readByTrainer());
        return Collections.unmodifiableSortedSet(keys);
    }

    /** The keys the pipeline services and the trainer read and the teacher does not (full keys, sorted). */
    public static SortedSet<String> readByServicesOtherThanTeacher() {
        SortedSet<String> keys = readByAnyService();
        keys.removeAll(readByTeacher());
        return Collections.unmodifiableSortedSet(keys);
    }

    private static SortedSet<String> readByAnyService() {
        SortedSet<String> keys = new TreeSet<>(readByTrainer());
        keys.addAll(readByTeacher());
        for (PipelineService service : PipelineService.values()) {
            keys.addAll(readBy(service));
        }
        return keys;
    }

    /**
     * The keys under {@link #PREFIX} that {@code service} does not read but must not refuse either: the
     * other services' ({@link #readByOtherServices}) and {@link #REPO_ROOT}. Any other key it does not
     * read is a typo that stops it at startup.
     */
    public static SortedSet<String> letThrough(PipelineService service) {
        SortedSet<String> keys = new TreeSet<>(readByOtherServices(service));
        keys.add(key(REPO_ROOT));
        return Collections.unmodifiableSortedSet(keys);
    }

    /** As {@link #letThrough} for the trainer: the pipeline services' and the teacher's keys it does not read, and {@link #REPO_ROOT}. */
    public static SortedSet<String> letThroughTrainer() {
        SortedSet<String> keys = new TreeSet<>(readByServicesOtherThanTrainer());
        keys.add(key(REPO_ROOT));
        return Collections.unmodifiableSortedSet(keys);
    }

    /** As {@link #letThrough} for the teacher: the other services' keys it does not read, and {@link #REPO_ROOT}. */
    public static SortedSet<String> letThroughTeacher() {
        SortedSet<String> keys = new TreeSet<>(readByServicesOtherThanTeacher());
        keys.add(key(REPO_ROOT));
        return Collections.unmodifiableSortedSet(keys);
    }

    /** {@code millrace.<name>}, e.g. {@code millrace.seq-len}. */
    public static String key(String name) {
        return PREFIX + "." + name;
    }

    /** {@code millrace.<group>.<name>}, e.g. {@code millrace.dedup.retention-ms}. */
    public static String key(String group, String name) {
        return PREFIX + "." + group + "." + name;
    }

    /** A per-stage setting of one stage: {@code millrace.<stage>.<name>}, e.g. {@code millrace.sft.packing}. */
    public static String key(Stage stage, String name) {
        return key(stage.id(), name);
    }
}
