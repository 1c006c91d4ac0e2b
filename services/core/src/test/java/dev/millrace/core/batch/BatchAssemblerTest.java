package dev.millrace.core.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.mask.Row;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchAssemblerTest {
    private static final int T = 8;
    private static final int PAD = 0;

    /** A wire row of {@code real} tokens of which the last {@code trained} are trained. */
    private static BatchRow row(String id, int real, int trained) {
        int[] ids = new int[real];
        int[] mask = new int[real];
        Arrays.fill(ids, 7);
        Arrays.fill(mask, real - trained, real, 1);
        return RowCodec.toProto(Row.fit(ids, mask, T, PAD), List.of(RecordRef.newBuilder().setRecordId(id).build()), List.of());
    }

    @Test
    void closeSetsTheFillSharesOverRealRowsOnly() {
        BatchAssembler assembler = new BatchAssembler(Stage.SFT, "fp", T, 4, PAD);
        Batch open = assembler.add(null, "sft-p0-00000000", row("a", 6, 2), 100);
        open = assembler.add(open, "ignored", row("b", 4, 3), 200);

        Batch batch = assembler.close(open);

        assertThat(batch.getBatchId()).isEqualTo("sft-p0-00000000");
        assertThat(batch.getCreatedAtMs()).isEqualTo(100);
        assertThat(batch.getRowsCount()).isEqualTo(4);
        assertThat(batch.getRealRows()).isEqualTo(2);
        assertThat(batch.getNonpadTokens()).isEqualTo(10);
        assertThat(batch.getTrainedTokens()).isEqualTo(5);
        assertThat(batch.getNonpadShare()).isEqualTo(10.0 / (2 * T));
        assertThat(batch.getTrainedShare()).isEqualTo(5.0 / (2 * T));
        assertThat(batch.getPacked()).isFalse();
        assertThat(batch.getRejectedRowsCount()).isZero();
        assertThat(batch.getRows(2).getFiller()).isTrue();
        assertThat(batch.getRows(3).getFiller()).isTrue();
    }

    @Test
    void dpoBatchesHoldAlignedPairsAndFillerPairsAndCountBothSides() {
        BatchAssembler assembler = new BatchAssembler(Stage.DPO, "fp", T, 3, PAD);
        Batch open = assembler.addPair(null, "dpo-p1-00000004", row("p1", 5, 2), row("p1", 7, 4), 0);
        open = assembler.addPair(open, "ignored", row("p2", 3, 1), row("p2", 8, 6), 0);
        assertThat(assembler.isFull(open)).isFalse();

        Batch batch = assembler.close(open);

        assertThat(batch.getRowsCount()).isEqualTo(3);
        assertThat(batch.getRejectedRowsCount()).isEqualTo(3);
        assertThat(batch.getRealRows()).isEqualTo(2);
        for (int i = 0; i < 2; i++) {
            assertThat(batch.getRows(i).getRecords(0).getRecordId()).isEqualTo(batch.getRejectedRows(i).getRecords(0).getRecordId());
        }
        assertThat(batch.getRows(2).getFiller()).isTrue();
        assertThat(batch.getRejectedRows(2).getFiller()).isTrue();
        assertThat(batch.getNonpadTokens()).isEqualTo(5 + 7 + 3 + 8);
        assertThat(batch.getTrainedTokens()).isEqualTo(2 + 4 + 1 + 6);
        assertThat(batch.getNonpadShare()).isEqualTo(23.0 / (4 * T));
        assertThat(batch.getTrainedShare()).isEqualTo(13.0 / (4 * T));
    }

    @Test
    void pairsAreOnlyForDpoAndDpoIsNeverPacked() {
        assertThatThrownBy(() -> new BatchAssembler(Stage.SFT, "fp", T, 2, PAD).addPair(null, "x", row("a", 2, 1), row("a", 2, 1), 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BatchAssembler(Stage.DPO, "fp", T, 2, PAD).add(null, "x", row("a", 2, 1), 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new BatchAssembler(Stage.DPO, "fp", T, 2, PAD, true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not offered for DPO");
    }

    @Test
    void aPackedAssemblerMarksItsBatches() {
        BatchAssembler assembler = new BatchAssembler(Stage.PRETRAIN, "fp", T, 1, PAD, true);
        Batch batch = assembler.close(assembler.add(null, "pretrain-p0-00000000", row("a", 8, 8), 0));
        assertThat(batch.getPacked()).isTrue();
        assertThat(batch.getNonpadShare()).isEqualTo(1.0);
        assertThat(batch.getTrainedShare()).isEqualTo(1.0);
    }

    @Test
    void fillerRowsOfAPackedBatchCarryTZeroSegmentAndPositionIdsAndUnpackedOnesNone() {
        BatchAssembler packed = new BatchAssembler(Stage.SFT, "fp", T, 3, PAD, true);
        Batch batch = packed.close(packed.add(null, "sft-p0-00000000", row("a", 5, 2), 0));
        for (int r = 1; r < 3; r++) {
            BatchRow filler = batch.getRows(r);
            assertThat(filler.getFiller()).isTrue();
            assertThat(filler.getSegmentIdsList()).hasSize(T).containsOnly(0);
            assertThat(filler.getPositionIdsList()).hasSize(T).containsOnly(0);
        }

        BatchAssembler unpacked = new BatchAssembler(Stage.SFT, "fp", T, 2, PAD);
        BatchRow filler = unpacked.close(unpacked.add(null, "sft-p0-00000000", row("a", 5, 2), 0)).getRows(1);
        assertThat(filler.getFiller()).isTrue();
        assertThat(filler.getSegmentIdsList()).isEmpty();
        assertThat(filler.getPositionIdsList()).isEmpty();
    }

    @Test
    void rowsOfAnotherLengthAreRefused() {
        BatchAssembler assembler = new BatchAssembler(Stage.SFT, "fp", T + 1, 2, PAD);
        assertThatThrownBy(() -> assembler.add(null, "x", row("a", 2, 1), 0)).hasMessageContaining("expected T=9");
    }
}
