package dev.millrace.streams;

import dev.millrace.streams.failure.StreamThreadFailureHandler;
import dev.millrace.streams.health.StreamRunningCheck;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.Readiness;

/**
 * What every Kafka Streams step service installs around its client, found by CDI in this bean archive
 * (META-INF/beans.xml), so the services' topology producers hold only their topologies.
 */
@Singleton
public class StreamsClientBeans {
    /**
     * Installed by Quarkus on the Kafka Streams client: a failed stream thread is replaced (however often
     * when the broker was away), and a client whose threads keep failing for other reasons shuts down so
     * that health says DOWN (docs/failures.md).
     */
    @Produces
    @Singleton
    public StreamsUncaughtExceptionHandler streamThreadFailures(MeterRegistry registry) {
        return new StreamThreadFailureHandler(registry);
    }

    /** Readiness DOWN while the Kafka Streams client is not RUNNING (docs/failures.md). */
    @Produces
    @Singleton
    @Readiness
    public HealthCheck streamRunning(KafkaStreams streams) {
        return StreamRunningCheck.of(streams);
    }
}
