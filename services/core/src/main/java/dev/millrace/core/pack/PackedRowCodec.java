package dev.millrace.core.pack;

import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import java.util.List;

/** Packed rows on the wire: a {@link RowCodec} row plus segment and position ids, one record ref per example. */
public final class PackedRowCodec {
    private PackedRowCodec() {
    }

    /**
     * @param records one reference per example, in the row's order
     * @param warnings the examples' warnings (each kept once)
     */
    public static BatchRow toProto(PackedRow row, List<RecordRef> records, List<String> warnings) {
        BatchRow.Builder b = BatchRow.newBuilder()
                .setLossMask(RowCodec.packMask(row.mask()))
                .setNonpadTokens(row.realLength())
                .setTrainedTokens(row.asRow().trainedTokens())
                .addAllRecords(records)
                .addAllWarnings(warnings.stream().distinct().toList());
        for (int k = 0; k < row.seqLen(); k++) {
            b.addInputIds(row.ids()[k]).addSegmentIds(row.segmentIds()[k]).addPositionIds(row.positionIds()[k]);
        }
        return b.build();
    }
}
