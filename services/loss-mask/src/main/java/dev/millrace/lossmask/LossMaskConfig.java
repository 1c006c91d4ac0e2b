package dev.millrace.lossmask;

import static dev.millrace.contract.SettingNames.BATCH_LINGER_MS;
import static dev.millrace.contract.SettingNames.BATCH_SIZE;
import static dev.millrace.contract.SettingNames.DEFAULT_SEQ_LEN;
import static dev.millrace.contract.SettingNames.PACKING;
import static dev.millrace.contract.SettingNames.PACK_LINGER_MS;
import static dev.millrace.contract.SettingNames.SEQ_LEN;
import static dev.millrace.contract.SettingNames.key;

import dev.millrace.contract.SettingNames;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.config.Packing;
import dev.millrace.streams.config.PipelineConfig;
import dev.millrace.streams.config.SettingConverters.NonNegativeLong;
import dev.millrace.streams.config.SettingConverters.Positive;
import dev.millrace.streams.config.SettingConverters.SeqLen;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;

/**
 * Everything loss-mask reads under {@code millrace.} (docs/architecture.md#service-settings): the
 * common settings ({@link PipelineConfig}: stages, tokenizer folder, topic prefix, per-stage options,
 * of which it uses all but special-tokens-in-content, system-prompt and partial-render) and the batch shape.
 */
@ConfigMapping(prefix = SettingNames.PREFIX)
public interface LossMaskConfig extends PipelineConfig {
    /** The row length T. */
    @WithName(SEQ_LEN)
    @WithDefault(DEFAULT_SEQ_LEN)
    @WithConverter(SeqLen.class)
    int seqLen();

    /** B: the rows (DPO: pairs) of every batch. */
    @WithName(BATCH_SIZE)
    @WithDefault("16")
    @WithConverter(Positive.class)
    int batchSize();

    /** How long a partial batch waits for more rows before it is completed with filler rows and sent. */
    @WithName(BATCH_LINGER_MS)
    @WithDefault("5000")
    @WithConverter(NonNegativeLong.class)
    long batchLingerMs();

    /** How long a partly filled pack buffer waits for more examples before it is packed as it is; default: the batch linger. */
    @WithName(PACK_LINGER_MS)
    @WithDefault("${" + SettingNames.PREFIX + "." + BATCH_LINGER_MS + "}")
    @WithConverter(NonNegativeLong.class)
    long packLingerMs();

    default Duration batchLinger() {
        return Duration.ofMillis(batchLingerMs());
    }

    default Duration packLinger() {
        return Duration.ofMillis(packLingerMs());
    }

    /**
     * Whether the stage's rows are packed ({@code packing}).
     *
     * @throws IllegalArgumentException for dpo with packing on, naming the key that turned it on:
     *     a DPO batch pairs each chosen row with its rejected row, which packing would break
     */
    default boolean packs(Stage stage) {
        if (options(stage).packing() == Packing.OFF) {
            return false;
        }
        if (stage == Stage.DPO) {
            String set = overrides(stage).packing().isPresent() ? key(stage, PACKING) : key(PACKING);
            throw new IllegalArgumentException(set + "=on: packing is not offered for DPO (a batch pairs each chosen row "
                    + "with its rejected row); set " + key(stage, PACKING) + "=off");
        }
        return true;
    }
}
