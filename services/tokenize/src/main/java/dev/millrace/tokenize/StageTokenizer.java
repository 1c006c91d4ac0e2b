package dev.millrace.tokenize;

import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.streams.StageSettings;
import dev.millrace.streams.WirePretrain;
import dev.millrace.streams.WireSpans;

/**
 * One rendered side → its token ids (every rule is core's): a conversation side (sft, distill, each
 * DPO side) is encoded whole, its assistant spans mapped to tokens; a pretrain text is encoded and
 * wrapped with bos/eos as the stage's {@code wrap} setting decides, untruncated.
 */
final class StageTokenizer {
    private final SftPreparer conversations;
    private final PretrainPreparer pretrain;

    StageTokenizer(Stage stage, TokenizerFolder folder) {
        // T matters for neither encoding nor wrapping; the loss-mask service owns truncation.
        this.conversations = stage == Stage.PRETRAIN ? null : new SftPreparer(folder, StageSettings.sftOptions(stage, 2));
        this.pretrain = stage == Stage.PRETRAIN ? StageSettings.pretrainPreparer(folder, stage, 2) : null;
    }

    TokenizedSide tokenize(RenderedSide side) {
        if (pretrain != null) {
            return WirePretrain.side(pretrain.wrap(side.getText()));
        }
        return WireSpans.side(conversations.tokenize(side.getText(), WireSpans.textSpans(side)), side.getAssistantMessages());
    }
}
