package dev.millrace.chattemplate;

import static dev.millrace.contract.SettingNames.DEDUP;
import static dev.millrace.contract.SettingNames.EXPIRY_MAX_PER_RUN;
import static dev.millrace.contract.SettingNames.MAX_MESSAGES;
import static dev.millrace.contract.SettingNames.RECORD_TIME_BUDGET_MS;
import static dev.millrace.contract.SettingNames.RETENTION_MS;

import dev.millrace.contract.SettingNames;
import dev.millrace.core.prepare.RecordBounds;
import dev.millrace.streams.config.PipelineConfig;
import dev.millrace.streams.config.SettingConverters.Positive;
import dev.millrace.streams.config.SettingConverters.PositiveLong;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;

/**
 * Everything chat-template reads under {@code millrace.} (docs/architecture.md#service-settings): the
 * common settings ({@link PipelineConfig}: stages, tokenizer folder, topic prefix, per-stage options,
 * of which it uses mask-rule, special-tokens-in-content, system-prompt and partial-render), the duplicate drop,
 * and the bounds on one record's template work.
 */
@ConfigMapping(prefix = SettingNames.PREFIX)
public interface ChatTemplateConfig extends PipelineConfig {

    /** A conversation (or DPO side) with more messages is a {@code TOO_MANY_MESSAGES} dead letter. */
    @WithName(MAX_MESSAGES)
    @WithDefault("" + RecordBounds.DEFAULT_MAX_MESSAGES)
    @WithConverter(Positive.class)
    int maxMessages();

    /**
     * The template work on one record stops after this many milliseconds: a
     * {@code RECORD_TIME_BUDGET_EXCEEDED} dead letter. Keep it well below the transaction timeout.
     */
    @WithName(RECORD_TIME_BUDGET_MS)
    @WithDefault("" + RecordBounds.DEFAULT_TIME_BUDGET_MS)
    @WithConverter(PositiveLong.class)
    long recordTimeBudgetMs();

    default RecordBounds recordBounds() {
        return new RecordBounds(maxMessages(), Duration.ofMillis(recordTimeBudgetMs()));
    }

    @WithName(DEDUP)
    Dedup dedup();

    /** The duplicate drop ({@code millrace.dedup.}). */
    interface Dedup {
        /** How long a record id is remembered (7 days). */
        @WithName(RETENTION_MS)
        @WithDefault("604800000")
        @WithConverter(PositiveLong.class)
        long retentionMs();

        /** The most expired entries one sweep of the store deletes. */
        @WithName(EXPIRY_MAX_PER_RUN)
        @WithDefault("10000")
        @WithConverter(Positive.class)
        int expiryMaxPerRun();

        default Duration retention() {
            return Duration.ofMillis(retentionMs());
        }
    }
}
