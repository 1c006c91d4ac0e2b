package dev.millrace.streams.testing;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A real broker for {@code @QuarkusTest}s (Apache's jars, in-process), with every topic of the test's
 * stages created (2 partitions each) before the app starts. The stages are SFT unless the test names
 * them with the init arg {@code stages} (e.g. {@code @ResourceArg(name = "stages", value = "pretrain,dpo")}),
 * which also becomes the app's {@code millrace.stages}.
 */
public class LocalKafkaResource implements QuarkusTestResourceLifecycleManager {
    public static final String STAGES = "stages";
    private static LocalKafka kafka;
    private String stages;

    public static String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public void init(Map<String, String> initArgs) {
        stages = initArgs.get(STAGES);
    }

    @Override
    public Map<String, String> start() {
        try {
            kafka = LocalKafka.start(Files.createTempDirectory("millrace-test-kafka"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Stage> topicStages = stages == null ? List.of(Stage.SFT)
                : Arrays.stream(stages.split(",")).map(String::trim).map(Stage::fromId).toList();
        kafka.createTopics(2, Topics.DEFAULT.all(topicStages).toArray(String[]::new));
        Map<String, String> config = new HashMap<>(Map.of("kafka.bootstrap.servers", kafka.bootstrapServers(),
                "quarkus.kafka-streams.bootstrap-servers", kafka.bootstrapServers()));
        if (stages != null) {
            config.put("millrace.stages", stages);
        }
        return config;
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
        }
    }
}
