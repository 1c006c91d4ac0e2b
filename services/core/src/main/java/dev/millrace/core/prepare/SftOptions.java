package dev.millrace.core.prepare;

import dev.millrace.core.chat.InputFormat;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.record.Stage;

/**
 * Per-stage settings for conversation stages (sft, distill, and each side of dpo). The defaults reproduce the seed.
 *
 * @param seqLen the row length T
 * @param format a forced input format, or null to detect per record
 * @param maskRule the mask rule, or null for the default: pattern when the vocabulary has the
 *                 ChatML tokens, else span
 * @param trainOn which assistant turns are trained
 * @param specialTokens special-token text inside content: allow (counted warning) or reject
 * @param systemPrompt a system message given to conversations that have none (overriding the
 *                     template's own default prompt), or null to leave them as they are
 * @param partialRender a record the template renders only part of: reject (dead letter) or accept (counted warning)
 * @param bounds the most messages per conversation and the time budget of one record's template work
 */
public record SftOptions(Stage stage, int seqLen, InputFormat format, MaskRule maskRule, TrainOn trainOn,
                         SpecialTokenPolicy specialTokens, String systemPrompt, PartialRenderPolicy partialRender,
                         RecordBounds bounds) {
    public SftOptions {
        if (stage == Stage.PRETRAIN) {
            throw new IllegalArgumentException("conversation preparation is for sft, dpo and distill, not pretrain");
        }
        if (seqLen < 2) {
            throw new IllegalArgumentException("--seq-len must be at least 2");
        }
        trainOn = trainOn == null ? TrainOn.ALL : trainOn;
        specialTokens = specialTokens == null ? SpecialTokenPolicy.ALLOW : specialTokens;
        partialRender = partialRender == null ? PartialRenderPolicy.REJECT : partialRender;
        bounds = bounds == null ? RecordBounds.DEFAULT : bounds;
    }

    /** With the default bounds ({@link RecordBounds#DEFAULT}). */
    public SftOptions(Stage stage, int seqLen, InputFormat format, MaskRule maskRule, TrainOn trainOn,
                      SpecialTokenPolicy specialTokens, String systemPrompt, PartialRenderPolicy partialRender) {
        this(stage, seqLen, format, maskRule, trainOn, specialTokens, systemPrompt, partialRender, RecordBounds.DEFAULT);
    }

    /** These options with other bounds. */
    public SftOptions withBounds(RecordBounds bounds) {
        return new SftOptions(stage, seqLen, format, maskRule, trainOn, specialTokens, systemPrompt, partialRender, bounds);
    }

    /** With the default partial-render policy: reject. */
    public SftOptions(Stage stage, int seqLen, InputFormat format, MaskRule maskRule, TrainOn trainOn,
                      SpecialTokenPolicy specialTokens, String systemPrompt) {
        this(stage, seqLen, format, maskRule, trainOn, specialTokens, systemPrompt, PartialRenderPolicy.REJECT, RecordBounds.DEFAULT);
    }

    /** The seed's defaults. */
    public SftOptions(Stage stage, int seqLen, InputFormat format) {
        this(stage, seqLen, format, null, TrainOn.ALL, SpecialTokenPolicy.ALLOW, null, PartialRenderPolicy.REJECT, RecordBounds.DEFAULT);
    }
}
