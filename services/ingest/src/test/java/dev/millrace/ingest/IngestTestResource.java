package dev.millrace.ingest;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.streams.testing.LocalKafkaResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The real broker of {@link LocalKafkaResource} with the topics of every stage (it creates only the
 * SFT ones), all four stages enabled, and a fresh drop directory polled often. Every
 * {@code @QuarkusTest} of this module uses it, so the app starts once.
 */
public class IngestTestResource extends LocalKafkaResource {
    private static Path dropDir;

    static Path dropDir() {
        return dropDir;
    }

    @Override
    public Map<String, String> start() {
        Map<String, String> config = new HashMap<>(super.start());
        LocalKafka.createTopics(bootstrapServers(), 2, Map.of(), Topics.DEFAULT.all(List.of(Stage.values())).toArray(String[]::new));
        try {
            dropDir = Files.createTempDirectory("millrace-drop-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        config.put("millrace.stages", "pretrain,sft,dpo,distill");
        config.put("millrace.ingest.drop-dir", dropDir.toString());
        config.put("millrace.ingest.drop-poll-ms", "100");
        config.put("millrace.ingest.drop-chunk-lines", "3"); // several chunks per test file
        // Keys that only other services read, as in one config file shared by every service: ingest starts all the same.
        config.put("millrace.seq-len", "512");
        config.put("millrace.sft.mask-rule", "span");
        return config;
    }
}
