package dev.millrace.streams;

import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TokenizedSide;

/**
 * A pretrain text between core and the wire: one side whose text is the record's text as given
 * (no template, so no assistant spans), tokenized as the wrapped sequence with {@code eos_added}.
 */
public final class WirePretrain {
    private WirePretrain() {
    }

    public static RenderedSide side(String text) {
        return RenderedSide.newBuilder().setText(text).setAssistantSpansKnown(false).build();
    }

    public static TokenizedSide side(PretrainPreparer.Wrapped wrapped) {
        TokenizedSide.Builder b = TokenizedSide.newBuilder().setEosAdded(wrapped.eosAdded());
        for (int id : wrapped.ids()) {
            b.addIds(id);
        }
        return b.build();
    }

    /** The wrapped sequence a tokenized pretrain side carries, for the loss-mask step ({@link PretrainPreparer#rows}). */
    public static PretrainPreparer.Wrapped wrapped(TokenizedSide side) {
        return new PretrainPreparer.Wrapped(side.getIdsList().stream().mapToInt(Integer::intValue).toArray(), side.getEosAdded());
    }
}
