package dev.millrace.core.batch;

import dev.millrace.core.mask.Span;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import java.util.List;

/**
 * The loss-mask step of a DPO pair (docs/semantics.md#dpo), as {@code DpoPreparer} does it for
 * {@code prepare}: chosen and rejected are each masked, truncated and padded with the SFT step
 * ({@link SftPreparer#mask}); a side left without a trainable token rejects the whole pair, with a
 * message naming the side.
 */
public final class DpoSides {
    private final SftPreparer sides;

    /** @param sides the conversation settings both sides use (stage DPO) */
    public DpoSides(SftPreparer sides) {
        if (sides.options().stage() != Stage.DPO) {
            throw new IllegalArgumentException("DPO sides need conversation settings for stage dpo");
        }
        this.sides = sides;
    }

    /** Both sides' rows; chosen first, so a pair whose two sides fail names chosen. */
    public Pair mask(int[] chosenIds, List<Span> chosenSpans, int[] rejectedIds, List<Span> rejectedSpans) throws RecordRejected {
        return new Pair(side("chosen", chosenIds, chosenSpans), side("rejected", rejectedIds, rejectedSpans));
    }

    private SftPreparer.Masked side(String name, int[] ids, List<Span> spans) throws RecordRejected {
        return DpoPreparer.onSide(name, () -> sides.mask(ids, spans));
    }

    /** The masked rows of one pair. */
    public record Pair(SftPreparer.Masked chosen, SftPreparer.Masked rejected) {
    }
}
