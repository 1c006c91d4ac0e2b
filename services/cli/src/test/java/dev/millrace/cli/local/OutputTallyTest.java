package dev.millrace.cli.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.Row;
import dev.millrace.proto.v1.TopicOffset;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OutputTallyTest {

    private static Row row(String id, int nonPad, int trained) {
        return Row.newBuilder().addRecords(RecordRef.newBuilder().setRecordId(id)).setNonpadTokens(nonPad).setTrainedTokens(trained).build();
    }

    private static Row filler() {
        return Row.newBuilder().setFiller(true).setLossMask(ByteString.copyFrom(new byte[2])).build();
    }

    private static Batch batch(String id, Row... rows) {
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
}
