package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.BatchRow;
import java.util.Arrays;

/** Assertions that a wire row is the row core made. */
final class Rows {
    private Rows() {
    }

    static void assertIs(BatchRow wire, Row expected) {
        int t = expected.seqLen();
        assertThat(RowCodec.ids(wire)).containsExactly(expected.ids());
        assertThat(RowCodec.unpackMask(wire.getLossMask(), t)).containsExactly(expected.mask());
        assertThat(wire.getNonpadTokens()).isEqualTo(expected.realLength());
        assertThat(wire.getTrainedTokens()).isEqualTo(expected.trainedTokens());
        assertThat(wire.getFiller()).isFalse();
        assertThat(wire.getSegmentIdsList()).isEmpty();
        assertThat(wire.getPositionIdsList()).isEmpty();
    }

    static void assertIs(BatchRow wire, PackedRow expected) {
        int t = expected.seqLen();
        assertThat(RowCodec.ids(wire)).containsExactly(expected.ids());
        assertThat(RowCodec.unpackMask(wire.getLossMask(), t)).containsExactly(expected.mask());
        assertThat(wire.getSegmentIdsList()).containsExactlyElementsOf(Arrays.stream(expected.segmentIds()).boxed().toList());
        assertThat(wire.getPositionIdsList()).containsExactlyElementsOf(Arrays.stream(expected.positionIds()).boxed().toList());
        assertThat(wire.getNonpadTokens()).isEqualTo(expected.realLength());
        assertThat(wire.getTrainedTokens()).isEqualTo(expected.asRow().trainedTokens());
        assertThat(wire.getFiller()).isFalse();
    }

    static void assertFiller(BatchRow wire, int seqLen, int padId) {
        assertThat(wire.getFiller()).isTrue();
        assertThat(wire.getInputIdsList()).hasSize(seqLen).containsOnly(padId);
        assertThat(RowCodec.unpackMask(wire.getLossMask(), seqLen)).containsOnly(0);
        assertThat(wire.getRecordsList()).isEmpty();
    }

    /** The real tokens of a padded row (what the packer takes). */
    static int[] realIds(Row row) {
        return Arrays.copyOf(row.ids(), row.realLength());
    }

    static int[] realMask(Row row) {
        return Arrays.copyOf(row.mask(), row.realLength());
    }
}
