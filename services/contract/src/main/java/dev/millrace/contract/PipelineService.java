package dev.millrace.contract;

import dev.millrace.core.record.Stage;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The services of the pipeline, in order, each declared once: its id (module directory, the
 * {@code service} of its dead letters and metrics) and the topic steps it reads and writes. The
 * topics a Kafka Streams service waits for before it starts follow from here, in the service
 * (streams-common's StreamTopicsConfig) and in the CLI's local run alike.
 */
public enum PipelineService {
    /** Reads HTTP bodies and files, not a topic; writes raw records (and distill prompts). */
    INGEST("ingest", null, TopicStep.RAW),
    CHAT_TEMPLATE("chat-template", TopicStep.RAW, TopicStep.TEMPLATED),
    TOKENIZE("tokenize", TopicStep.TEMPLATED, TopicStep.TOKENIZED),
    LOSS_MASK("loss-mask", TopicStep.TOKENIZED, TopicStep.BATCHES);

    private final String id;
    private final TopicStep reads;
    private final TopicStep writes;

    PipelineService(String id, TopicStep reads, TopicStep writes) {
        this.id = id;
        this.reads = reads;
        this.writes = writes;
    }

    public String id() {
        return id;
    }

    /** The step whose topics it consumes; empty for ingest. */
    public Optional<TopicStep> reads() {
        return Optional.ofNullable(reads);
    }

    public TopicStep writes() {
        return writes;
    }

    /** Whether it is a Kafka Streams app (one topic step in, the next out): every service but ingest. */
    public boolean isStreamsApp() {
        return reads != null;
    }

    /**
     * The topics a Kafka Streams service reads and writes for the given stages, stage by stage, then
     * the dead-letter topic: its {@code quarkus.kafka-streams.topics}, which it waits for before it
     * starts. Empty for ingest, which is no Kafka Streams app.
     */
    public List<String> streamTopics(Topics topics, List<Stage> stages) {
        return isStreamsApp() ? topics.forSteps(stages, List.of(reads, writes)) : List.of();
    }

    /** @throws IllegalArgumentException for an id that names no service */
    public static PipelineService fromId(String id) {
        return Arrays.stream(values()).filter(s -> s.id.equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown pipeline service '" + id + "' (expected "
                        + String.join(", ", Arrays.stream(values()).map(PipelineService::id).toList()) + ")"));
    }
}
