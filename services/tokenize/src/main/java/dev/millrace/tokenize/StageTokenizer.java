package dev.millrace.tokenize;

import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.streams.WirePretrain;
import dev.millrace.streams.WireSpans;
import dev.millrace.streams.config.StageOptions;

/**
 * One rendered side → its token ids (every rule is core's): a conversation side (sft, distill, each
 * DPO side) is encoded whole, its assistant spans mapped to tokens; a pretrain text is encoded and
 * wrapped with bos/eos as the stage's {@code wrap} setting decides, untruncated.
 */
final class StageTokenizer {
    private final SftPreparer conversations;
    private final PretrainPreparer pretrain;

    /** @param options the stage's options (wrap for pretrain; the conversation options for the others) */
    StageTokenizer(TokenizerFolder folder, StageOptions options) {
        boolean pretrainStage = options.stage() == Stage.PRETRAIN;
        // T matters for neither encoding nor wrapping; the loss-mask service owns truncation.
        this.conversations = pretrainStage ? null : new SftPreparer(folder, options.sftOptions(2));
        this.pretrain = pretrainStage ? options.pretrainPreparer(folder, 2) : null;
    }

    TokenizedSide tokenize(RenderedSide side) {
        if (pretrain != null) {
            return WirePretrain.side(pretrain.wrap(side.getText()));
        }
        return WireSpans.side(conversations.tokenize(side.getText(), WireSpans.textSpans(side)), side.getAssistantMessages());
    }
}
