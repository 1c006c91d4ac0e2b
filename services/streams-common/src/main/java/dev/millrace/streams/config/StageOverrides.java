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
import io.smallrye.config.WithName;
import java.util.Optional;

/**
 * One stage's own per-stage options ({@code millrace.<stage>.<key>}): each one given wins over the
 * value for every stage ({@link StageDefaults}, where the defaults are).
 */
public interface StageOverrides {
    @WithName(MASK_RULE)
    Optional<@WithConverter(MaskRuleId.class) MaskRule> maskRule();

    @WithName(TRAIN_ON)
    Optional<@WithConverter(TrainOnId.class) TrainOn> trainOn();

    @WithName(SPECIAL_TOKENS_IN_CONTENT)
    Optional<@WithConverter(SpecialTokensId.class) SpecialTokenPolicy> specialTokensInContent();

    @WithName(SYSTEM_PROMPT)
    Optional<String> systemPrompt();

    @WithName(PARTIAL_RENDER)
    Optional<@WithConverter(PartialRenderId.class) PartialRenderPolicy> partialRender();

    @WithName(WRAP)
    Optional<@WithConverter(WrapId.class) Wrap> wrap();

    @WithName(PRETRAIN_OVERFLOW)
    Optional<@WithConverter(PretrainOverflowId.class) PretrainOverflow> pretrainOverflow();

    @WithName(PACKING)
    Optional<@WithConverter(PackingId.class) Packing> packing();

    @WithName(PACK_BUFFER)
    Optional<@WithConverter(Positive.class) Integer> packBuffer();
}
