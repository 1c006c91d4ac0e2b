package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import java.util.List;
import org.junit.jupiter.api.Test;

class TeacherAnswersTest {
    private static final String TEACHER = "t-1";

    private static RawRecord prompt(String id) {
        return RawRecord.newBuilder().setRecordId(id).setStage(WireStage.DISTILL).build();
    }

    private static RawRecord answer(String id, String teacher) {
        return RawRecord.newBuilder().setRecordId(id).setStage(WireStage.DISTILL).setTeacherId(teacher).build();
    }

    private static Batch batchOf(String... ids) {
        Batch.Builder b = Batch.newBuilder().setStage(WireStage.DISTILL).setSeqLen(8);
        for (String id : ids) {
            b.addRows(BatchRow.newBuilder().addRecords(RecordRef.newBuilder().setRecordId(id)).setNonpadTokens(4).setTrainedTokens(2));
        }
        return b.build();
    }

    private static DeadLetter letter(String service, String recordId) {
        return DeadLetter.newBuilder().setService(service).setRecordId(recordId).setStage(WireStage.DISTILL).setReason("X")
                .setInput(TopicOffset.newBuilder().setTopic("millrace.distill.tokenized")).build();
    }

    @Test
    void countsOnlyThisTeachersAnswersAndTheirWayIntoBatches() {
        List<RawRecord> prompts = List.of(prompt("p1"), prompt("p2"), prompt("p3"), prompt("p1")); // p1 twice: one answer
        List<RawRecord> raw = List.of(answer("a1", TEACHER), answer("a2", TEACHER), answer("x", "millrace-demo-teacher"), answer("a1", TEACHER));

        TeacherAnswers some = TeacherAnswers.of(TEACHER, prompts, raw, List.of(batchOf("a1", "x")), List.of());
        assertThat(some.prompts()).isEqualTo(3);
        assertThat(some.answerIds()).containsExactlyInAnyOrder("a1", "a2");
        assertThat(some.allAnswered()).as("p3 is neither answered nor dead-lettered").isFalse();
        assertThat(some.allBatched()).as("a2 is in no batch yet").isFalse();

        TeacherAnswers all = TeacherAnswers.of(TEACHER, prompts, raw, List.of(batchOf("a1", "x")),
                List.of(letter("teacher", "p3"), letter("loss-mask", "a2")));
        assertThat(all.teacherDeadLetters()).isEqualTo(1);
        assertThat(all.allAnswered()).isTrue();
        assertThat(all.allBatched()).as("a2 ended as a downstream dead letter").isTrue();
    }

    @Test
    void noPromptsIsDoneAtOnce() {
        TeacherAnswers none = TeacherAnswers.of(TEACHER, List.of(), List.of(), List.of(), List.of());
        assertThat(none.allAnswered()).isTrue();
        assertThat(none.allBatched()).isTrue();
    }
}
