package dev.millrace.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.record.Reason;
import dev.millrace.core.record.Stage;
import dev.millrace.core.record.Warning;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** The step counters every service reports, tagged by service and stage (and reason or warning). */
class StepMetricsTest {

    @Test
    void countsAreTaggedByServiceAndStage() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StepMetrics metrics = new StepMetrics(registry, "tokenize", Stage.DPO);

        metrics.in();
        metrics.in();
        metrics.out();
        metrics.deadLetter(Reason.MALFORMED_MESSAGE);
        metrics.warning(Warning.SPECIAL_TOKEN_IN_CONTENT);

        assertThat(registry.get("millrace.records.in").tags("service", "tokenize", "stage", "dpo").counter().count()).isEqualTo(2);
        assertThat(registry.get("millrace.records.out").tags("service", "tokenize", "stage", "dpo").counter().count()).isEqualTo(1);
        assertThat(registry.get("millrace.dead.letters").tags("service", "tokenize", "stage", "dpo", "reason", "MALFORMED_MESSAGE")
                .counter().count()).isEqualTo(1);
        assertThat(registry.get("millrace.warnings").tags("service", "tokenize", "stage", "dpo", "warning", "SPECIAL_TOKEN_IN_CONTENT")
                .counter().count()).isEqualTo(1);
        assertThat(metrics.service()).isEqualTo("tokenize");
        assertThat(metrics.stage()).isEqualTo("dpo");
    }
}
