package dev.millrace.chattemplate;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.DpoPair;
import dev.millrace.core.chat.TextRecord;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.RecordBounds;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.streams.WirePretrain;
import dev.millrace.streams.WireSpans;
import dev.millrace.streams.config.StageOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One stage's normalised record → its rendered sides (every rule is core's): a conversation (sft,
 * distill) is one side rendered with the chat template; a DPO pair is two, chosen then rejected,
 * each rendered the same way; a pretrain text is one side, the text as given.
 */
final class StageRenderer {
    private final Stage stage;
    /** Null for pretrain, which has no template. */
    private final SftPreparer conversations;

    /** The sides of one record and the warnings found rendering them (each warning once). */
    record RenderedSides(List<RenderedSide> sides, List<Warning> warnings) {
    }

    /**
     * @param options the stage's options (mask-rule, special-tokens-in-content, system-prompt and partial-render apply here)
     * @param bounds the most messages per conversation and the time budget of one record's template work
     */
    StageRenderer(TokenizerFolder folder, StageOptions options, RecordBounds bounds) {
        this.stage = options.stage();
        // T does not matter for rendering; the loss-mask service owns truncation.
        this.conversations = stage == Stage.PRETRAIN ? null : new SftPreparer(folder, options.sftOptions(2).withBounds(bounds));
    }

    /** @throws dev.millrace.core.record.MalformedMessage when the normalised record is not of the stage's shape */
    RenderedSides render(Map<String, Object> normalised) throws RecordRejected {
        return switch (stage) {
            case PRETRAIN -> new RenderedSides(List.of(WirePretrain.side(TextRecord.fromNormalised(normalised).text())), List.of());
            case SFT, DISTILL -> conversation(Conversation.fromNormalised(normalised));
            case DPO -> pair(DpoPair.fromNormalised(normalised));
        };
    }

    private RenderedSides conversation(Conversation conversation) throws RecordRejected {
        SftPreparer.TemplatedConversation rendered = conversations.template(conversation);
        return new RenderedSides(List.of(WireSpans.side(rendered, assistantMessages(conversation))), rendered.warnings());
    }

    private RenderedSides pair(DpoPair pair) throws RecordRejected {
        SftPreparer.TemplatedConversation chosen = DpoPreparer.onSide("chosen", () -> conversations.template(pair.chosen()));
        SftPreparer.TemplatedConversation rejected = DpoPreparer.onSide("rejected", () -> conversations.template(pair.rejected()));
        List<Warning> warnings = new ArrayList<>(chosen.warnings());
        warnings.addAll(rejected.warnings());
        return new RenderedSides(List.of(WireSpans.side(chosen, assistantMessages(pair.chosen())),
                WireSpans.side(rejected, assistantMessages(pair.rejected()))), warnings.stream().distinct().toList());
    }

    private static int assistantMessages(Conversation conversation) {
        int n = 0;
        for (int i = 0; i < conversation.size(); i++) {
            if (conversation.isAssistant(i)) {
                n++;
            }
        }
        return n;
    }
}
