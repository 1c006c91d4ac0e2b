package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.training.TestBatches.Example;
import dev.millrace.training.train.BatchTensors;
import java.util.List;
import org.junit.jupiter.api.Test;

class BatchTensorsTest {
    @Test
    void inputsAreIdsWithoutTheLastTargetsWithoutTheFirstWeightsTheShiftedMask() {
        Example e = new Example(new int[] {5, 6, 7, 8, 9}, new int[] {0, 0, 1, 1, 1});
        BatchTensors t = BatchTensors.from(TestBatches.unpacked("sft-p0-00000000", 6, 2, List.of(e)));
        assertThat(t.rows()).isEqualTo(2);
        assertThat(t.length()).isEqualTo(5);
        assertThat(t.inputs()).containsExactly(5, 6, 7, 8, 9, 0, 0, 0, 0, 0);
        assertThat(t.targets()).containsExactly(6, 7, 8, 9, 0, 0, 0, 0, 0, 0);
        assertThat(t.weights()).containsExactly(0, 1, 1, 1, 0, 0, 0, 0, 0, 0);
        assertThat(t.positions()).isNull();
        assertThat(t.segments()).isNull();
        assertThat(t.weightSum()).isEqualTo(3);
    }

    @Test
    void packedRowsBringSegmentsAndPositionsCutToTheInputs() {
        Example a = new Example(new int[] {5, 6, 7}, new int[] {1, 1, 1});
        Example b = new Example(new int[] {8, 9}, new int[] {0, 1});
        BatchTensors t = BatchTensors.from(TestBatches.packed("sft-p0-00000000", 6, 2, List.of(List.of(a, b))));
        assertThat(t.inputs()).containsExactly(5, 6, 7, 8, 9, 0, 0, 0, 0, 0);
        assertThat(t.segments()).containsExactly(1, 1, 1, 2, 2, 0, 0, 0, 0, 0);
        assertThat(t.positions()).containsExactly(0, 1, 2, 0, 1, 0, 0, 0, 0, 0);
        assertThat(t.weights()).containsExactly(1, 1, 0, 1, 0, 0, 0, 0, 0, 0); // no learning across the boundary
    }

    @Test
    void aPackedFillerRowWithoutSegmentOrPositionIdsReadsAsAllZero() {
        Example a = new Example(new int[] {5, 6, 7}, new int[] {1, 1, 1});
        Batch batch = TestBatches.packed("sft-p0-00000000", 6, 2, List.of(List.of(a)));
        // As loss-mask wrote packed filler rows before they carried ids: no segment_ids, no position_ids.
        Batch old = batch.toBuilder().setRows(1, RowCodec.filler(6, 0)).build();
        assertThat(old.getRows(1).getSegmentIdsCount()).isZero();
        BatchTensors t = BatchTensors.from(old);
        assertThat(t.segments()).containsExactly(1, 1, 1, 0, 0, 0, 0, 0, 0, 0);
        assertThat(t.positions()).containsExactly(0, 1, 2, 0, 0, 0, 0, 0, 0, 0);
    }

    @Test
    void aFillerRowWeighsNothingWhateverItsMaskSays() {
        BatchRow liar = RowCodec.filler(4, 0).toBuilder().setLossMask(RowCodec.packMask(new int[] {1, 1, 1, 1})).build();
        Batch batch = Batch.newBuilder().setBatchId("x").setStage(WireStage.SFT).setSeqLen(4).addRows(liar).build();
        assertThat(BatchTensors.from(batch).weightSum()).isZero();
    }

    @Test
    void malformedBatchesAreRefused() {
        Batch dpo = Batch.newBuilder().setBatchId("dpo-p0-00000000").setStage(WireStage.DPO).setSeqLen(4).build();
        assertThatThrownBy(() -> BatchTensors.from(dpo)).hasMessageContaining("DPO");
        Batch shortRow = Batch.newBuilder().setBatchId("b").setStage(WireStage.SFT).setSeqLen(4)
                .addRows(RowCodec.filler(3, 0)).build();
        assertThatThrownBy(() -> BatchTensors.from(shortRow)).hasMessageContaining("3 ids, expected T=4");
        Batch partialSegments = TestBatches.packed("p", 4, 1, List.of(List.of(new Example(new int[] {5, 6}, new int[] {1, 1}))));
        Batch cut = partialSegments.toBuilder().setRows(0, partialSegments.getRows(0).toBuilder().clearSegmentIds().addSegmentIds(1)).build();
        assertThatThrownBy(() -> BatchTensors.from(cut)).hasMessageContaining("1 segment ids, expected T=4");
    }
}
