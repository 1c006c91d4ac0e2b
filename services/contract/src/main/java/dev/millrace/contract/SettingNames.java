package dev.millrace.contract;

import dev.millrace.core.record.Stage;

/**
 * The names of the services' own settings, each written once: the Kafka Streams services' typed
 * configs ({@code @ConfigMapping(prefix = SettingNames.PREFIX)}) name their keys with these, and the
 * CLI's local run writes them through {@link ServiceSettings}. A name is relative to {@link #PREFIX};
 * {@link #key} gives the full key. What each one means and its default: docs/architecture.md#service-settings.
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

    // Per stage ({@code <stage>.<name>}), else for every stage ({@code <name>}).
    public static final String MASK_RULE = "mask-rule";
    public static final String TRAIN_ON = "train-on";
    public static final String SPECIAL_TOKENS_IN_CONTENT = "special-tokens-in-content";
    public static final String SYSTEM_PROMPT = "system-prompt";
    public static final String WRAP = "wrap";
    public static final String PRETRAIN_OVERFLOW = "pretrain-overflow";
    public static final String PACKING = "packing";
    public static final String PACK_BUFFER = "pack-buffer";

    // chat-template: the duplicate drop ({@code dedup.<name>}).
    public static final String DEDUP = "dedup";
    public static final String RETENTION_MS = "retention-ms";
    public static final String EXPIRY_MAX_PER_RUN = "expiry-max-per-run";

    /** ingest's own settings live under {@code millrace.ingest.}. */
    public static final String INGEST = "ingest";

    /**
     * Not a service setting: the repository root, a system property of the {@code millrace} launcher
     * (for the CLI) and of the build's test JVMs, so a service may see it among its keys.
     */
    public static final String REPO_ROOT = "repo.root";

    // loss-mask.
    public static final String SEQ_LEN = "seq-len";
    public static final String BATCH_SIZE = "batch-size";
    public static final String BATCH_LINGER_MS = "batch-linger-ms";
    public static final String PACK_LINGER_MS = "pack-linger-ms";

    private SettingNames() {
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
