package dev.millrace.core.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.pack.PackedRowCodec;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TopicOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LargestBatchTest {
    private static final String RAW = "millrace.pretrain.raw";

    /** The worst real packed batch: every example one token long, so a row holds as many references as it can. */
    @Test
    void noRealPackedBatchIsLargerThanTheBound() {
        int t = 64;
        int b = 4;
        int vocab = 6400;
        Packer packer = new Packer(t, 0, t);
        List<PackedRow> rows = new ArrayList<>();
        for (int i = 0; i < b * t; i++) {
            rows.addAll(packer.add(new int[] {vocab - 1}, new int[] {1}, i));
        }
        rows.addAll(packer.finish());
        BatchAssembler assembler = new BatchAssembler(Stage.PRETRAIN, "fp", t, b, 0, true);
        Batch open = null;
        for (PackedRow row : rows.subList(0, b)) {
            List<RecordRef> refs = new ArrayList<>();
            for (long line : row.lines()) {
                refs.add(RecordRef.newBuilder().setRecordId(RecordId.of(Stage.PRETRAIN, "text " + line))
                        .setRaw(TopicOffset.newBuilder().setTopic(RAW).setPartition(3).setOffset(1L << 40)).setWindow(2).build());
            }
            open = assembler.add(open, "pretrain-p3-00001234", PackedRowCodec.toProto(row, refs,
                    Arrays.stream(Warning.values()).map(Warning::name).toList()), System.currentTimeMillis());
        }
        Batch real = assembler.close(open);
        assertThat(real.getRowsList()).allSatisfy(r -> assertThat(r.getRecordsCount()).isEqualTo(t));

        long bound = LargestBatch.bytes(Stage.PRETRAIN, t, b, true, vocab - 1, t, "fp", RAW);
        assertThat(real.getSerializedSize() + real.getBatchIdBytes().size()).isLessThanOrEqualTo((int) bound);
        assertThat(LargestBatch.bytes(Stage.PRETRAIN, t, b, true, vocab - 1, t / 2, "fp", RAW))
                .as("fewer examples per row: a smaller bound").isLessThan(bound);
    }

    @Test
    void dpoCountsBothSidesAndUnpackedRowsCarryOneReference() {
        Batch sft = LargestBatch.of(Stage.SFT, 128, 8, false, 6399, 512, "fp", RAW);
        Batch dpo = LargestBatch.of(Stage.DPO, 128, 8, false, 6399, 512, "fp", RAW);
        assertThat(sft.getRowsList()).hasSize(8).allSatisfy(r -> {
            assertThat(r.getInputIdsList()).hasSize(128);
            assertThat(r.getRecordsCount()).isEqualTo(1);
            assertThat(r.getSegmentIdsList()).isEmpty();
        });
        assertThat(sft.getRejectedRowsList()).isEmpty();
        assertThat(dpo.getRejectedRowsList()).hasSize(8);
        assertThat(dpo.getSerializedSize()).isGreaterThan(2 * sft.getSerializedSize() - 200);
    }

    @Test
    void atB64T8192AnUnpackedBatchIsPastKafkasDefaultLimit() {
        assertThat(LargestBatch.bytes(Stage.SFT, 8192, 64, false, 6399, 1, "fp", RAW)).isGreaterThan(1 << 20);
    }
}
