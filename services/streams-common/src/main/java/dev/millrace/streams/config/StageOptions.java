package dev.millrace.streams.config;

import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.prepare.PartialRenderPolicy;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.util.Optional;

/**
 * One stage's per-stage options as they apply: {@code millrace.<stage>.<key>}, else
 * {@code millrace.<key>}, else the default ({@link StageDefaults}).
 *
 * @param maskRule empty: by vocabulary (pattern for ChatML, else span)
 * @param systemPrompt empty: conversations without one are left as they are
 */
public record StageOptions(Stage stage, Optional<MaskRule> maskRule, TrainOn trainOn, SpecialTokenPolicy specialTokens,
                           Optional<String> systemPrompt, PartialRenderPolicy partialRender, Wrap wrap, PretrainOverflow pretrainOverflow, Packing packing,
                           int packBuffer) {

    static StageOptions resolve(Stage stage, StageOverrides own, StageDefaults every) {
        return new StageOptions(stage,
                own.maskRule().or(every::maskRule),
                own.trainOn().orElse(every.trainOn()),
                own.specialTokensInContent().orElse(every.specialTokensInContent()),
                own.systemPrompt().or(every::systemPrompt),
                own.partialRender().orElse(every.partialRender()),
                own.wrap().orElse(every.wrap()),
                own.pretrainOverflow().orElse(every.pretrainOverflow()),
                own.packing().orElse(every.packing()),
                own.packBuffer().orElse(every.packBuffer()));
    }

    /** The conversation path (sft, distill, each DPO side) of this stage, with rows of {@code seqLen}. */
    public SftOptions sftOptions(int seqLen) {
        return new SftOptions(stage, seqLen, null, maskRule.orElse(null), trainOn, specialTokens, systemPrompt.orElse(null),
                partialRender);
    }

    /** The pretrain path (wrap and overflow rule) of this stage, with rows of {@code seqLen}. */
    public PretrainPreparer pretrainPreparer(TokenizerFolder folder, int seqLen) {
        return new PretrainPreparer(folder, seqLen, null, wrap, pretrainOverflow == PretrainOverflow.SPLIT);
    }
}
