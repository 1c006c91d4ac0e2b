package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OutputTallyTest {

    private static BatchRow row(String id, int nonPad, int trained) {
        return BatchRow.newBuilder().addRecords(RecordRef.newBuilder().setRecordId(id)).setNonpadTokens(nonPad).setTrainedTokens(trained).build();
    }

    /** A packed row (several records) or a pretrain window (one record, window k). */
    private static BatchRow row(int nonPad, int trained, RecordRef... refs) {
        return BatchRow.newBuilder().addAllRecords(List.of(refs)).setNonpadTokens(nonPad).setTrainedTokens(trained).build();
    }

    private static RecordRef ref(String id, int window) {
        return RecordRef.newBuilder().setRecordId(id).setWindow(window).build();
    }

    private static BatchRow filler() {
        return BatchRow.newBuilder().setFiller(true).setLossMask(ByteString.copyFrom(new byte[2])).build();
    }

    private static Batch batch(String id, BatchRow... rows) {
        return Batch.newBuilder().setBatchId(id).setSeqLen(10).addAllRows(List.of(rows)).build();
    }

    private static DeadLetter atIngest(String reason) {
        return DeadLetter.newBuilder().setService("ingest").setReason(reason).build();
    }

    private static DeadLetter downstream(String id) {
        return DeadLetter.newBuilder().setService("loss-mask").setReason("NO_TRAINABLE_TOKENS").setRecordId(id)
                .setInput(TopicOffset.newBuilder().setTopic("millrace.sft.tokenized")).build();
    }

    @Test
    void countsRealRowsOnlyAndFormatsTheCliSummaryLine() {
        OutputTally t = OutputTally.of(
                List.of(batch("b0", row("a", 10, 5), row("b", 6, 3)), batch("b1", row("c", 4, 1), filler())),
                List.of(atIngest("INVALID_JSON"), downstream("d")));

        assertThat(t.batches()).isEqualTo(2);
        assertThat(t.realRows()).isEqualTo(3);
        assertThat(t.recordsInRows()).isEqualTo(3);
        assertThat(t.ingestDeadLetters()).isEqualTo(1);
        assertThat(t.downstreamDeadLetters()).isEqualTo(1);
        // nonpad 20 / (3 rows x T=10), trained 9 / 30; rejected = 2 at ingest (from its answer) + 1 downstream
        assertThat(t.summaryLine("sft", 2))
                .isEqualTo("stage=sft records=3 rejected=3 batches=2 nonpad_share=0.667 trained_share=0.300 packing=off");
    }

    @Test
    void emptyOutputHasZeroShares() {
        assertThat(new OutputTally().summaryLine("sft", 0))
                .isEqualTo("stage=sft records=0 rejected=0 batches=0 nonpad_share=0.000 trained_share=0.000 packing=off");
    }

    @Test
    void tellsIngestDeadLettersFromDownstreamOnes() {
        assertThat(OutputTally.raisedAtIngest(atIngest("INVALID_JSON"))).isTrue();
        assertThat(OutputTally.raisedAtIngest(DeadLetter.newBuilder().setService("millrace-ingest").build())).isTrue();
        assertThat(OutputTally.raisedAtIngest(DeadLetter.newBuilder().build())).isTrue();
        assertThat(OutputTally.raisedAtIngest(downstream("x"))).isFalse();
        assertThat(OutputTally.raisedAtIngest(DeadLetter.newBuilder().setService("chat-template").build())).isFalse();
    }

    @Test
    void completeWhenEveryAcceptedRecordIsInARowOrADownstreamDeadLetter() {
        Set<String> ids = Set.of("a", "b", "d");
        OutputTally partial = OutputTally.of(List.of(batch("b0", row("a", 1, 1))), List.of(downstream("d")));
        assertThat(partial.complete(3, ids, true, Duration.ofMinutes(1), Duration.ofSeconds(4))).isFalse();
        assertThat(partial.missing(ids)).isEqualTo(1);

        OutputTally all = OutputTally.of(List.of(batch("b0", row("a", 1, 1), row("b", 1, 1))), List.of(downstream("d")));
        assertThat(all.complete(3, ids, true, Duration.ZERO, Duration.ofSeconds(4))).isTrue();
        assertThat(all.complete(3, Set.of(), false, Duration.ZERO, Duration.ofSeconds(4))).isTrue();
    }

    @Test
    void aDroppedDuplicateCompletesOnceEveryIdArrivedAndTheOutputSettled() {
        // 4 accepted lines, two of them the same record: 3 ids, 3 messages
        Set<String> ids = Set.of("a", "b", "d");
        OutputTally t = OutputTally.of(List.of(batch("b0", row("a", 1, 1), row("b", 1, 1))), List.of(downstream("d")));
        assertThat(t.complete(4, ids, true, Duration.ofSeconds(1), Duration.ofSeconds(4))).isFalse();
        assertThat(t.complete(4, ids, true, Duration.ofSeconds(5), Duration.ofSeconds(4))).isTrue();
        // without the ids only the counts decide
        assertThat(t.complete(4, ids, false, Duration.ofMinutes(5), Duration.ofSeconds(4))).isFalse();
    }

    @Test
    void aPackedRowCountsEachOfItsRecords() {
        Batch packed = batch("p0", row(9, 6, ref("a", 0), ref("b", 0), ref("c", 0)), row(4, 2, ref("d", 0)), filler()).toBuilder()
                .setPacked(true).build();
        OutputTally t = OutputTally.of(List.of(packed), List.of());

        assertThat(t.recordsInRows()).isEqualTo(4);
        assertThat(t.idsInRows()).containsExactlyInAnyOrder("a", "b", "c", "d");
        assertThat(t.realRows()).isEqualTo(2);
        // nonpad 13 / (2 rows x T=10), trained 8 / 20
        assertThat(t.summaryLine("sft", 0))
                .isEqualTo("stage=sft records=4 rejected=0 batches=1 nonpad_share=0.650 trained_share=0.400 packing=on");
    }

    @Test
    void aPretrainTextSplitIntoThreeWindowsIsOneRecordWhoseRowsAllCountInTheShares() {
        OutputTally t = OutputTally.of(List.of(
                batch("w0", row(10, 10, ref("long", 0)), row(10, 10, ref("long", 1))),
                batch("w1", row(3, 3, ref("long", 2), ref("short", 0)), filler())), List.of());

        assertThat(t.recordsInRows()).isEqualTo(2);
        assertThat(t.realRows()).isEqualTo(3);
        assertThat(t.complete(2, Set.of("long", "short"), true, Duration.ZERO, Duration.ofSeconds(4))).isTrue();
        // 23 real tokens in 3 rows of T=10
        assertThat(t.summaryLine("pretrain", 0))
                .isEqualTo("stage=pretrain records=2 rejected=0 batches=2 nonpad_share=0.767 trained_share=0.767 packing=off");
    }

    @Test
    void aDpoPairIsOneRecordAndBothItsRowsCountInTheShares() {
        Batch pairs = batch("d0", row("x", 8, 3), row("y", 6, 2), filler()).toBuilder()
                .addRejectedRows(row("x", 7, 2)).addRejectedRows(row("y", 4, 1)).addRejectedRows(filler()).build();
        OutputTally t = OutputTally.of(List.of(pairs), List.of(atIngest("DPO_PROMPT_MISMATCH")));

        assertThat(t.recordsInRows()).isEqualTo(2);
        assertThat(t.realRows()).isEqualTo(4);
        // nonpad (8+6+7+4) / (4 rows x T=10), trained (3+2+2+1) / 40
        assertThat(t.summaryLine("dpo", 1))
                .isEqualTo("stage=dpo records=2 rejected=1 batches=1 nonpad_share=0.625 trained_share=0.200 packing=off");
    }

    @Test
    void distillPromptsAccountForTheirRecordsWithoutBeingRows() {
        OutputTally t = OutputTally.of(List.of(batch("s0", row("answered", 5, 2))), List.of());
        t.addPrompt(RawRecord.newBuilder().setRecordId("prompt").build());

        assertThat(t.prompts()).isEqualTo(1);
        assertThat(t.arrived()).isEqualTo(2);
        assertThat(t.complete(2, Set.of("answered"), true, Duration.ZERO, Duration.ofSeconds(4))).isTrue();
        assertThat(t.summaryLine("distill", 0)).startsWith("stage=distill records=1 rejected=0 batches=1 ");
    }

    @Test
    void aDeadLetterBelongsToItsStageOrTheStageOfItsInputTopic() {
        assertThat(OutputTally.stageOf(DeadLetter.newBuilder().setStage(WireStage.DPO).build())).contains(Stage.DPO);
        assertThat(OutputTally.stageOf(downstream("d"))).contains(Stage.SFT);
        assertThat(OutputTally.stageOf(DeadLetter.newBuilder()
                .setInput(TopicOffset.newBuilder().setTopic("my.prefix.pretrain.templated")).build())).contains(Stage.PRETRAIN);
        assertThat(OutputTally.stageOf(atIngest("INVALID_JSON"))).isEmpty();
    }
}
