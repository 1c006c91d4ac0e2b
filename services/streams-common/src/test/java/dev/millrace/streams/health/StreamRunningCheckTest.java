package dev.millrace.streams.health;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.streams.KafkaStreams.State;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

class StreamRunningCheckTest {

    @Test
    void upOnlyWhileTheClientIsRunning() {
        for (State state : State.values()) {
            HealthCheckResponse response = new StreamRunningCheck(() -> state).call();
            assertThat(response.getStatus()).as(state.name())
                    .isEqualTo(state == State.RUNNING ? HealthCheckResponse.Status.UP : HealthCheckResponse.Status.DOWN);
            assertThat(response.getName()).isEqualTo(StreamRunningCheck.NAME);
            assertThat(response.getData()).hasValueSatisfying(data -> assertThat(data).containsEntry("state", state.name()));
        }
    }
}
