package dev.millrace.streams.config;

import static dev.millrace.contract.SettingNames.MASK_RULE;
import static dev.millrace.contract.SettingNames.PACKING;
import static dev.millrace.contract.SettingNames.PACK_BUFFER;
import static dev.millrace.contract.SettingNames.PARTIAL_RENDER;
import static dev.millrace.contract.SettingNames.PRETRAIN_OVERFLOW;
import static dev.millrace.contract.SettingNames.SPECIAL_TOKENS_IN_CONTENT;
import static dev.millrace.contract.SettingNames.SYSTEM_PROMPT;
import static dev.millrace.contract.SettingNames.TRAIN_ON;
import static dev.millrace.contract.SettingNames.WRAP;

import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.prepare.PartialRenderPolicy;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.streams.config.SettingConverters.MaskRuleId;
import dev.millrace.streams.config.SettingConverters.PackingId;
import dev.millrace.streams.config.SettingConverters.PartialRenderId;
import dev.millrace.streams.config.SettingConverters.Positive;
import dev.millrace.streams.config.SettingConverters.PretrainOverflowId;
import dev.millrace.streams.config.SettingConverters.SpecialTokensId;
import dev.millrace.streams.config.SettingConverters.TrainOnId;
import dev.millrace.streams.config.SettingConverters.WrapId;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.util.Optional;

/**
 * The per-stage options for every stage ({@code millrace.<key>}), with their defaults: a stage's
 * own value ({@link StageOverrides}, {@code millrace.<stage>.<key>}) wins over these.
 */
public interface StageDefaults {
    /** How assistant tokens are found; none: pattern for ChatML vocabularies, else span. */
    @WithName(MASK_RULE)
    Optional<@WithConverter(MaskRuleId.class) MaskRule> maskRule();

    @WithName(TRAIN_ON)
    @WithDefault("all")
    @WithConverter(TrainOnId.class)
    TrainOn trainOn();

    @WithName(SPECIAL_TOKENS_IN_CONTENT)
    @WithDefault("allow")
    @WithConverter(SpecialTokensId.class)
    SpecialTokenPolicy specialTokensInContent();

    /** A record the chat template renders only part of: reject (dead letter) or accept (counted warning). */
    @WithName(PARTIAL_RENDER)
    @WithDefault("reject")
    @WithConverter(PartialRenderId.class)
    PartialRenderPolicy partialRender();

    /** Given to conversations that have none; none: they are left as they are. */
    @WithName(SYSTEM_PROMPT)
    Optional<String> systemPrompt();

    /** Pretrain bos/eos. */
    @WithName(WRAP)
    @WithDefault("auto")
    @WithConverter(WrapId.class)
    Wrap wrap();

    @WithName(PRETRAIN_OVERFLOW)
    @WithDefault("truncate")
    @WithConverter(PretrainOverflowId.class)
    PretrainOverflow pretrainOverflow();

    @WithName(PACKING)
    @WithDefault("off")
    @WithConverter(PackingId.class)
    Packing packing();

    /** How many examples the packer looks at together. */
    @WithName(PACK_BUFFER)
    @WithDefault("" + Packer.DEFAULT_BUFFER)
    @WithConverter(Positive.class)
    int packBuffer();
}
