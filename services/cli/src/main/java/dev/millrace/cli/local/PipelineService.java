package dev.millrace.cli.local;

import java.nio.file.Path;
import java.util.List;

/** The packaged services a local run starts, in pipeline order. */
public enum PipelineService {
    INGEST("ingest"),
    CHAT_TEMPLATE("chat-template"),
    TOKENIZE("tokenize"),
    LOSS_MASK("loss-mask");

    private final String id;

    PipelineService(String id) {
        this.id = id;
    }

    /** The module directory name under services/ (also the log file name). */
    public String id() {
        return id;
    }

    /** Its packaged app, {@code services/<id>/target/quarkus-app/quarkus-run.jar}. */
    public Path jar(Path repoRoot) {
        return repoRoot.resolve("services").resolve(id).resolve("target/quarkus-app/quarkus-run.jar");
    }

    /** Ingest is a plain HTTP service; the others are Kafka Streams apps (state directory, topics to wait for). */
    public boolean usesKafkaStreams() {
        return this != INGEST;
    }

    /**
     * The topic steps a Kafka Streams service reads and writes (empty for ingest). A copy of each
     * service's {@code millrace.topic-steps} in its application.properties, kept here only.
     */
    List<String> topicSteps() {
        return switch (this) {
            case INGEST -> List.of();
            case CHAT_TEMPLATE -> List.of("raw", "templated");
            case TOKENIZE -> List.of("templated", "tokenized");
            case LOSS_MASK -> List.of("tokenized", "batches");
        };
    }
}
