package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.template.jinja.Deadline;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The per-record time budget reaches every way a template can keep the interpreter busy. */
class RenderDeadlineTest {
    private static final Conversation HI = new Conversation(List.of(Map.of("role", "user", "content", "hi")), null);

    private static ChatTemplate template(String source) {
        return new ChatTemplate(new TokenizerConfig(Map.of("default", source), Map.of("eos_token", "</s>"), List.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // nested loops: 10^10 iterations
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}done",
            // a loop whose body is an if: 10^10 nodes
            "{% for i in range(100000) %}{% for j in range(100000) %}{% if j > 1 %}{% endif %}{% endfor %}{% endfor %}done",
            // a macro that calls itself twice: 2^40 calls
            "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}done",
            // a loop filter that never keeps anything
            "{% for i in range(100000) %}{% for j in range(100000) if j < 0 %}{% endfor %}{% endfor %}done"})
    void aTemplateThatWouldRunForHoursStopsAtTheDeadline(String source) {
        ChatTemplate t = template(source);
        Deadline deadline = Deadline.after(Duration.ofMillis(300));

        RecordRejected e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> catchThrowableOfType(RecordRejected.class, () -> t.render(HI, false, deadline)));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.RECORD_TIME_BUDGET_EXCEEDED);
        assertThat(e.getMessage()).contains("record-time-budget-ms=300").contains("rendering 1 messages");
    }

    @Test
    void aDeadlineThatHasPassedStopsTheNextRenderBeforeItStarts() throws Exception {
        ChatTemplate t = template("{{ messages[0]['content'] }}");
        Deadline deadline = Deadline.after(Duration.ofMillis(1));
        Thread.sleep(5); // let the 1 ms pass: what is checked is that a render after it is refused

        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> t.render(HI, false, deadline));

        assertThat(e.reason()).isEqualTo(Reason.RECORD_TIME_BUDGET_EXCEEDED);
        assertThat(t.render(HI, false)).isEqualTo("hi");
        assertThat(t.render(HI, false, Deadline.after(Duration.ofSeconds(10)))).isEqualTo("hi");
    }

    @Test
    void aBudgetIsPositive() {
        assertThat(catchThrowableOfType(IllegalArgumentException.class, () -> Deadline.after(Duration.ZERO))).isNotNull();
    }
}
