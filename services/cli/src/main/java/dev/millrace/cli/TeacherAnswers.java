package dev.millrace.cli;

import dev.millrace.cli.local.OutputTally;
import dev.millrace.cli.local.PipelineOutput;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * How far the teacher's answers to the distill prompts have come, from what a {@link PipelineOutput} read: the
 * prompts the teacher answered (its answers on {@code distill.raw} carry its {@code teacher_id}) or dead-lettered
 * (service {@code teacher}), and which of the answers have reached a distill batch row or a downstream dead letter.
 * Counts are by record id: two identical prompts get one answer id, which the pipeline keeps once.
 */
record TeacherAnswers(long prompts, Set<String> answerIds, long teacherDeadLetters, Set<String> batchedAnswerIds) {
    static final String TEACHER_SERVICE = "teacher";

    static TeacherAnswers of(String teacherId, Collection<RawRecord> prompts, Collection<RawRecord> rawDistill,
            Collection<Batch> distillBatches, Collection<DeadLetter> deadLetters) {
        Set<String> promptIds = new HashSet<>();
        prompts.forEach(p -> promptIds.add(p.getRecordId()));
        Set<String> answers = new HashSet<>();
        rawDistill.stream().filter(r -> teacherId.equals(r.getTeacherId())).forEach(r -> answers.add(r.getRecordId()));
        Set<String> refused = new HashSet<>();
        OutputTally tally = new OutputTally();
        distillBatches.forEach(tally::addBatch);
        for (DeadLetter letter : deadLetters) {
            if (TEACHER_SERVICE.equals(letter.getService())) {
                refused.add(letter.getRecordId());
            } else if (OutputTally.stageOf(letter).orElse(null) == Stage.DISTILL) {
                tally.addDeadLetter(letter);
            }
        }
        Set<String> through = new HashSet<>(answers);
        through.removeIf(id -> tally.missing(Set.of(id)) > 0);
        return new TeacherAnswers(promptIds.size(), answers, refused.size(), through);
    }

    /** Every prompt answered or dead-lettered by the teacher (identical prompts have one id, hence one answer). */
    boolean allAnswered() {
        return answerIds.size() + teacherDeadLetters >= prompts;
    }

    /** Every answer is in a distill batch row or a downstream dead letter. */
    boolean allBatched() {
        return batchedAnswerIds.size() == answerIds.size();
    }
}
