package dev.millrace.teacher;

import dev.millrace.core.record.Reason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.jboss.logging.Logger;

/**
 * The teacher's metrics, {@code millrace_teacher_*} at /q/metrics, tagged with the teacher id (the checkpoint's
 * content hash). Counted on the loop's thread as prompts are answered; an answer of a transaction that is later
 * aborted was counted once already, so after an abort the counts are of work done, not of answers kept.
 */
final class TeacherMetrics implements TeacherLoop.Listener {
    private static final Logger LOG = Logger.getLogger(TeacherMetrics.class);

    private final MeterRegistry registry;
    private final Tags tags;
    private final int maxNewTokens;
    private final Counter promptsIn;
    private final Counter answersOut;
    private final Counter closedAtMaxNewTokens;
    private final Counter generatedTokens;
    private final Counter transactions;
    private final Counter aborted;
    private final Timer generation;

    TeacherMetrics(MeterRegistry registry, String teacherId, int maxNewTokens) {
        this.registry = registry;
        this.tags = Tags.of("teacher", teacherId);
        this.maxNewTokens = maxNewTokens;
        promptsIn = Counter.builder("millrace.teacher.prompts.in").tags(tags).description("Prompts read").register(registry);
        answersOut = Counter.builder("millrace.teacher.answers.out").tags(tags).description("Answers written to distill.raw").register(registry);
        closedAtMaxNewTokens = Counter.builder("millrace.teacher.answers.closed.at.max.new.tokens").tags(tags)
                .description("Answers that reached max-new-tokens without an end-of-turn token and were closed (on-max-new-tokens=close)").register(registry);
        generatedTokens = Counter.builder("millrace.teacher.generated.tokens").tags(tags).description("Tokens generated").register(registry);
        transactions = Counter.builder("millrace.teacher.transactions.committed").tags(tags).description("Transactions committed").register(registry);
        aborted = Counter.builder("millrace.teacher.transactions.aborted").tags(tags).description("Transactions aborted (their prompts are answered again)")
                .register(registry);
        generation = Timer.builder("millrace.teacher.generation").tags(tags).description("Time per prompt: render, generate, decode").register(registry);
    }

    @Override
    public void promptIn() {
        promptsIn.increment();
    }

    @Override
    public void outcome(PromptAnswerer.Outcome outcome) {
        if (outcome instanceof PromptAnswerer.Answered a) {
            answersOut.increment();
            generatedTokens.increment(a.generatedTokens());
            generation.record(Duration.ofNanos(Math.round(a.seconds() * 1e9)));
            if (a.closedAtMaxNewTokens()) {
                closedAtMaxNewTokens.increment();
                LOG.warnf("teacher: the answer %s reached max-new-tokens (%d) without an end-of-turn token; its turn is closed "
                        + "(on-max-new-tokens=close)", a.record().getRecordId(), maxNewTokens);
            }
        } else if (outcome instanceof PromptAnswerer.Rejected r) {
            generatedTokens.increment(r.generatedTokens());
            generation.record(Duration.ofNanos(Math.round(r.seconds() * 1e9)));
            Counter.builder("millrace.teacher.dead.letters").tags(tags.and("reason", r.letter().getReason()))
                    .description("Prompts dead-lettered, by reason").register(registry).increment();
            LOG.infof("teacher: prompt %s is a dead letter: %s %s", r.letter().getRecordId(), Reason.valueOf(r.letter().getReason()),
                    r.letter().getMessage());
        }
    }

    @Override
    public void committed(int prompts) {
        transactions.increment();
    }

    @Override
    public void aborted() {
        aborted.increment();
    }
}
