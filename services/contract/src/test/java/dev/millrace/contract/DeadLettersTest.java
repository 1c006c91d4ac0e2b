package dev.millrace.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A dead letter carries the reason, the original bytes and where they came from; its key is the record id, else the source. */
class DeadLettersTest {

    @Test
    void aDownstreamLetterCarriesEverythingAndIsKeyedByRecordId() {
        TopicOffset input = TopicOffset.newBuilder().setTopic("millrace.dpo.raw").setPartition(1).setOffset(7).build();
        DeadLetter letter = DeadLetters.of("chat-template", Stage.DPO, Reason.TEMPLATE_ERROR, "boom",
                "orig".getBytes(StandardCharsets.UTF_8), null, "id-1", input);

        assertThat(letter.getService()).isEqualTo("chat-template");
        assertThat(letter.getStage()).isEqualTo(WireStage.DPO);
        assertThat(letter.getReason()).isEqualTo("TEMPLATE_ERROR");
        assertThat(letter.getMessage()).isEqualTo("boom");
        assertThat(letter.getOriginal().toStringUtf8()).isEqualTo("orig");
        assertThat(letter.getInput()).isEqualTo(input);
        assertThat(letter.hasSource()).isFalse();
        assertThat(letter.getAtMs()).isPositive();
        assertThat(DeadLetters.key(letter)).isEqualTo("id-1");
    }

    @Test
    void aLetterWithoutRecordIdIsKeyedByItsSource() {
        Source source = Source.newBuilder().setKind("http").setName("req-9").setLine(3).build();
        DeadLetter letter = DeadLetters.of("ingest", Stage.SFT, Reason.INVALID_JSON, null, null, source, null, null);

        assertThat(letter.getMessage()).isEmpty();
        assertThat(letter.getOriginal().isEmpty()).isTrue();
        assertThat(letter.getRecordId()).isEmpty();
        assertThat(DeadLetters.key(letter)).isEqualTo("http:req-9:3");
    }
}
