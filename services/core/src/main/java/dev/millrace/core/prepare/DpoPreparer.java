package dev.millrace.core.prepare;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.DpoPair;
import dev.millrace.core.chat.RecordReader;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.json.StrictJson;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import java.util.ArrayList;
import java.util.List;

/**
 * The DPO path (docs/semantics.md#dpo): chosen and rejected are each rendered, encoded, truncated,
 * padded and masked exactly as SFT (the same {@link SftPreparer} steps); the pair shares its
 * prompt (checked when it is read) and each side must keep at least one trainable token.
 */
public final class DpoPreparer implements LinePreparer {
    private final SftPreparer sides;

    /** @param options the conversation settings both sides use (stage DPO) */
    public DpoPreparer(SftPreparer sides) {
        if (sides.options().stage() != Stage.DPO) {
            throw new IllegalArgumentException("a DPO preparer needs conversation settings for stage dpo");
        }
        this.sides = sides;
    }

    @Override
    public Prepared prepare(RawLine line) {
        try {
            DpoPair pair = RecordReader.read(StrictJson.parse(line.bytes()), Stage.DPO, sides.options().format()).asDpoPair();
            List<Warning> warnings = new ArrayList<>();
            Prepared.Side chosen = side("chosen", pair.chosen(), warnings);
            Prepared.Side rejected = side("rejected", pair.rejected(), warnings);
            return new Prepared.Pair(line.number(), RecordId.of(Stage.DPO, pair.normalised()), chosen, rejected,
                    warnings.stream().distinct().toList());
        } catch (RecordRejected e) {
            return new Prepared.Rejected(line.number(), e.reason(), e.getMessage());
        }
    }

    private Prepared.Side side(String name, Conversation conversation, List<Warning> warnings) throws RecordRejected {
        return onSide(name, () -> {
            SftPreparer.TemplatedConversation rendered = sides.template(conversation);
            SftPreparer.Tokenized tokenized = sides.tokenize(rendered);
            SftPreparer.Masked masked = sides.mask(tokenized.ids(), tokenized.assistantTokenSpans());
            warnings.addAll(rendered.warnings());
            warnings.addAll(masked.warnings());
            return new Prepared.Side(rendered.text(), masked.row());
        });
    }

    /** One step on one side of a pair. */
    @FunctionalInterface
    public interface SideStep<T> {
        T run() throws RecordRejected;
    }

    /**
     * Runs a step on the side called {@code name} ({@code chosen} or {@code rejected}); a rejection
     * names the side ({@code "rejected: ..."}), so the one dead letter of a pair says which side failed.
     * The services run each DPO step through this too.
     */
    public static <T> T onSide(String name, SideStep<T> step) throws RecordRejected {
        try {
            return step.run();
        } catch (RecordRejected e) {
            throw new RecordRejected(e.reason(), name + ": " + e.getMessage());
        }
    }
}
