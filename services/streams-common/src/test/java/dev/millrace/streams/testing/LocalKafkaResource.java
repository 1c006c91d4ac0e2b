package dev.millrace.streams.testing;

import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.streams.Topics;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/**
 * A real broker for {@code @QuarkusTest}s (Apache's jars, in-process), with every SFT topic created
 * (2 partitions each) before the app starts.
 */
public class LocalKafkaResource implements QuarkusTestResourceLifecycleManager {
    private static LocalKafka kafka;

    public static String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public Map<String, String> start() {
        try {
            kafka = LocalKafka.start(Files.createTempDirectory("millrace-test-kafka"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        kafka.createTopics(2, Topics.DEFAULT.all(List.of(Stage.SFT)).toArray(String[]::new));
        return Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                "quarkus.kafka-streams.bootstrap-servers", kafka.bootstrapServers());
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }
}
