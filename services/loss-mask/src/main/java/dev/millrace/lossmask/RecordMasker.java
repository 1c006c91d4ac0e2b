package dev.millrace.lossmask;

import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.streams.WirePretrain;
import java.util.ArrayList;
import java.util.List;

/** A single-sequence stage's loss-mask rule (core's): one tokenized record to its masked examples. */
@FunctionalInterface
interface RecordMasker {

    List<MaskedExample> mask(TokenizedRecord in) throws RecordRejected;

    /** sft and distill: the assistant mask, truncation and padding ({@link SftPreparer#mask}). */
    static RecordMasker conversation(SftPreparer preparer) {
        return in -> {
            BatchingProcessor.expectSides(in, preparer.options().stage());
            TokenizedSide side = in.getSides(0);
            SftPreparer.Masked masked = preparer.mask(BatchingProcessor.ids(side.getIdsList()), BatchingProcessor.tokenSpans(side, preparer.maskRule()));
            return List.of(new MaskedExample(masked.row(), BatchingProcessor.ref(in, 0), masked.warnings()));
        };
    }

    /**
     * pretrain: the side's ids are the wrapped sequence; {@link PretrainPreparer#rows} truncates
     * it to one row or splits it into windows, each an example whose ref names its window.
     */
    static RecordMasker pretrain(PretrainPreparer preparer) {
        return in -> {
            BatchingProcessor.expectSides(in, Stage.PRETRAIN);
            TokenizedSide side = in.getSides(0);
            var rows = preparer.rows(WirePretrain.wrapped(side));
            List<MaskedExample> examples = new ArrayList<>(rows.size());
            for (int k = 0; k < rows.size(); k++) {
                examples.add(new MaskedExample(rows.get(k), BatchingProcessor.ref(in, k), List.of()));
            }
            return examples;
        };
    }
}
