package dev.millrace.trainer;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.kafkalocal.LocalKafka;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A real broker (in-process) whose {@code millrace.sft.batches} holds {@link #BATCHES} committed batches of
 * T = {@link #SEQ_LEN} before the app starts, and a continuous trainer of {@code tiny} on them: its
 * checkpoint directory and eval file are made here.
 */
public class TrainerTestResource implements QuarkusTestResourceLifecycleManager {
    static final int SEQ_LEN = 48;
    static final int BATCHES = 6;
    static final String EVAL_LINE = "{\"conversations\": [{\"role\": \"user\", \"content\": \"What is 15% of 80?\"}, "
            + "{\"role\": \"assistant\", \"content\": \"12.\"}]}";
    private static LocalKafka kafka;
    private static Path checkpoints;

    static String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    static Path checkpoints() {
        return checkpoints;
    }

    @Override
    public Map<String, String> start() {
        try {
            Path dir = Files.createTempDirectory("millrace-trainer-test");
            kafka = LocalKafka.start(dir.resolve("kafka"));
            checkpoints = dir.resolve("checkpoints");
            Path eval = Files.writeString(dir.resolve("eval.jsonl"), EVAL_LINE + "\n");
            String topic = Topics.DEFAULT.batches(Stage.SFT);
            kafka.createTopics(1, topic);
            BatchTopic.commit(kafka.bootstrapServers(), topic, BatchTopic.batches(1, 0, BATCHES, SEQ_LEN));
            return Map.ofEntries(Map.entry("kafka.bootstrap.servers", kafka.bootstrapServers()),
                    Map.entry("millrace.trainer.stage", "sft"),
                    Map.entry("millrace.trainer.checkpoint-dir", checkpoints.toString()),
                    Map.entry("millrace.trainer.model", "tiny"),
                    Map.entry("millrace.seq-len", String.valueOf(SEQ_LEN)),
                    Map.entry("millrace.trainer.checkpoint-every-steps", "4"),
                    Map.entry("millrace.trainer.eval-file", eval.toString()),
                    Map.entry("millrace.trainer.eval-every-steps", "3"),
                    Map.entry("millrace.trainer.progress-every-steps", "2"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void stop() {
        if (kafka != null) {
            kafka.close();
            kafka = null;
        }
    }

    /** More batches for the running trainer. */
    static void commit(int first, int count) {
        BatchTopic.commit(kafka.bootstrapServers(), Topics.DEFAULT.batches(Stage.SFT), BatchTopic.batches(first, first, count, SEQ_LEN));
    }

    static List<String> stepLines() throws IOException {
        Path log = checkpoints.resolve("steps.jsonl");
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }
}
