package dev.millrace.lossmask;

import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.batch.DpoSides;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * dpo: both sides (chosen, then rejected) masked as SFT by core's {@link DpoSides}; a side without a
 * trainable token makes the pair one dead letter. The pair's rows go to the same index of the
 * batch's {@code rows} and {@code rejected_rows}. Never packed.
 */
final class PairProcessor extends BatchingProcessor {
    private final DpoSides sides;
    private final MaskRule maskRule;

    PairProcessor(Stage stage, DpoSides sides, MaskRule maskRule, BatchAssembler assembler, String fingerprint, Duration linger, MeterRegistry registry) {
        super(stage, assembler, fingerprint, linger, registry);
        this.sides = sides;
        this.maskRule = maskRule;
    }

    @Override
    protected void accept(TokenizedRecord in, long now) throws RecordRejected {
        expectSides(in, Stage.DPO);
        DpoSides.Pair pair = sides.mask(ids(in.getSides(0).getIdsList()), tokenSpans(in.getSides(0), maskRule),
                ids(in.getSides(1).getIdsList()), tokenSpans(in.getSides(1), maskRule));
        Set<Warning> found = new LinkedHashSet<>(pair.chosen().warnings());
        found.addAll(pair.rejected().warnings());
        found.forEach(metrics()::warning);
        RecordRef ref = ref(in, 0);
        addPair(row(pair.chosen(), ref, in), row(pair.rejected(), ref, in), now);
    }

    private static BatchRow row(SftPreparer.Masked side, RecordRef ref, TokenizedRecord in) {
        List<String> warnings = new ArrayList<>(in.getWarningsList());
        side.warnings().forEach(w -> warnings.add(w.name()));
        return RowCodec.toProto(side.row(), List.of(ref), List.of()).toBuilder().addAllWarnings(warnings).build();
    }
}
