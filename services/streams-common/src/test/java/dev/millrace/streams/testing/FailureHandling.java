package dev.millrace.streams.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.streams.failure.DeserializationFailureHandler;
import dev.millrace.streams.failure.ProcessingFailureHandler;
import dev.millrace.streams.failure.ProductionFailureHandler;
import dev.millrace.streams.failure.StreamThreadFailureHandler;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;

/** For each Streams service's test: the app runs with every failure handler of docs/failures.md. */
public final class FailureHandling {
    private FailureHandling() {
    }

    /**
     * @param config the config the app's Kafka Streams client was built with
     * @param uncaught the app's uncaught-exception handler bean (Quarkus installs it on the client)
     */
    public static void assertConfigured(StreamsConfig config, StreamsUncaughtExceptionHandler uncaught) {
        assertThat(config.getClass(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG)).isEqualTo(DeserializationFailureHandler.class);
        assertThat(config.getClass(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG)).isEqualTo(ProcessingFailureHandler.class);
        assertThat(config.getClass(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG)).isEqualTo(ProductionFailureHandler.class);
        assertThat(uncaught).isInstanceOf(StreamThreadFailureHandler.class);
    }
}
