package dev.millrace.streams.health;

import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;

/**
 * Readiness of a step service: UP only while its Kafka Streams client is {@code RUNNING}. Quarkus'
 * own readiness check only asks the broker whether the input topics exist, so a client that is
 * rebalancing, waiting for a broker that went away, or shut down for good (ERROR) would still be
 * reported ready. Each service produces one ({@code @Produces @Readiness}) next to its topology;
 * liveness stays Quarkus' check (DOWN once the client is shut down, so an orchestrator restarts it).
 */
public final class StreamRunningCheck implements HealthCheck {
    public static final String NAME = "Kafka Streams client running";

    private final Supplier<KafkaStreams.State> state;

    public StreamRunningCheck(Supplier<KafkaStreams.State> state) {
        this.state = state;
    }

    public static StreamRunningCheck of(KafkaStreams streams) {
        return new StreamRunningCheck(streams::state);
    }

    @Override
    public HealthCheckResponse call() {
        KafkaStreams.State now = state.get();
        return new HealthCheckResponse(NAME, now == KafkaStreams.State.RUNNING ? HealthCheckResponse.Status.UP : HealthCheckResponse.Status.DOWN,
                Optional.of(Map.of("state", now.name())));
    }
}
