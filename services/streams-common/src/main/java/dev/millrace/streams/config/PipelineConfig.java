package dev.millrace.streams.config;

import static dev.millrace.contract.SettingNames.DEFAULT_STAGES;
import static dev.millrace.contract.SettingNames.DEFAULT_TOPIC_PREFIX;
import static dev.millrace.contract.SettingNames.FAULT_INJECTION;
import static dev.millrace.contract.SettingNames.SERVICE;
import static dev.millrace.contract.SettingNames.DEFAULT_STUCK_RECORD_AFTER_MS;
import static dev.millrace.contract.SettingNames.STAGES;
import static dev.millrace.contract.SettingNames.STUCK_RECORD_AFTER_MS;
import static dev.millrace.contract.SettingNames.THROW_ON_RECORDS;
import static dev.millrace.contract.SettingNames.TOKENIZER;
import static dev.millrace.contract.SettingNames.TOPIC_PREFIX;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.config.SettingConverters.PositiveLong;
import dev.millrace.streams.config.SettingConverters.ServiceId;
import dev.millrace.streams.config.SettingConverters.StageId;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import io.smallrye.config.WithParentName;
import java.util.List;
import java.util.Optional;

/**
 * What every Kafka Streams service reads, under {@code millrace.}: each service's one typed config
 * ({@code @ConfigMapping(prefix = SettingNames.PREFIX)}) extends this and adds its own settings.
 * The per-stage options are given for one stage ({@code millrace.<stage>.<key>}, e.g.
 * {@code millrace.sft.mask-rule}) or for every stage ({@code millrace.<key>}); {@link #options}
 * resolves them.
 */
public interface PipelineConfig {
    /** The stages this instance serves (an unknown one stops the service at startup). */
    @WithName(STAGES)
    @WithDefault(DEFAULT_STAGES)
    List<@WithConverter(StageId.class) Stage> stages();

    /** The tokenizer folder; empty: the bundled one. */
    @WithName(TOKENIZER)
    Optional<String> tokenizer();

    @WithName(TOPIC_PREFIX)
    @WithDefault(DEFAULT_TOPIC_PREFIX)
    String topicPrefix();

    /**
     * Which service this app is, set in its application.properties (streams-common's
     * StreamTopicsConfig reads it to list the topics the app waits for).
     */
    @WithName(SERVICE)
    @WithConverter(ServiceId.class)
    PipelineService service();

    /**
     * Liveness turns DOWN while one record has been in process for longer than this many
     * milliseconds (streams-common's {@code StuckRecordCheck}, which reads the same key).
     */
    @WithName(STUCK_RECORD_AFTER_MS)
    @WithDefault(DEFAULT_STUCK_RECORD_AFTER_MS)
    @WithConverter(PositiveLong.class)
    long stuckRecordAfterMs();

    /**
     * Tests only (docs/failures.md#fault-injection-tests-only): {@code <service>:<record id>} entries;
     * that service's step throws an unexpected exception on that record. Read by streams-common's
     * {@code FaultInjection}; mapped here so that the key is a known one.
     */
    @WithName(FAULT_INJECTION + "." + THROW_ON_RECORDS)
    Optional<List<String>> faultInjectionThrowOnRecords();

    /** The per-stage options for every stage ({@code millrace.<key>}), with the defaults. */
    @WithParentName
    StageDefaults everyStage();

    /** {@code millrace.pretrain.<key>}. */
    StageOverrides pretrain();

    /** {@code millrace.sft.<key>}. */
    StageOverrides sft();

    /** {@code millrace.dpo.<key>}. */
    StageOverrides dpo();

    /** {@code millrace.distill.<key>}. */
    StageOverrides distill();

    default Topics topics() {
        return new Topics(topicPrefix());
    }

    /** The options given for this stage alone ({@code millrace.<stage>.<key>}). */
    default StageOverrides overrides(Stage stage) {
        return switch (stage) {
            case PRETRAIN -> pretrain();
            case SFT -> sft();
            case DPO -> dpo();
            case DISTILL -> distill();
        };
    }

    /** The stage's options as they apply: its own value, else the value for every stage, else the default. */
    default StageOptions options(Stage stage) {
        return StageOptions.resolve(stage, overrides(stage), everyStage());
    }
}
