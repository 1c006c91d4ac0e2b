package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import dev.millrace.core.record.Stage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How each packaged service of a local run is configured: the system properties ({@code -D}) it is
 * started with, built from the run's typed {@link RunSettings} in one method per service. This is the
 * one place in the CLI that names the services' config keys (each service's application.properties
 * documents them).
 */
final class ServiceProperties {
    static final String HTTP_HOST = "quarkus.http.host";
    static final String HTTP_PORT = "quarkus.http.port";
    static final String BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
    static final String STAGES = "millrace.stages";
    static final String TOPIC_PREFIX = "millrace.topic-prefix";
    static final String STREAMS_STATE_DIR = "kafka-streams.state.dir";
    static final String STREAMS_TOPICS = "quarkus.kafka-streams.topics";
    static final String SEQ_LEN = "millrace.seq-len";
    static final String BATCH_SIZE = "millrace.batch-size";
    static final String BATCH_LINGER_MS = "millrace.batch-linger-ms";

    private ServiceProperties() {
    }

    /** Where one service process runs: the broker's address, its HTTP port, and the run directory (Kafka Streams state goes under it). */
    record Placement(String bootstrapServers, int httpPort, Path runDir) {
    }

    /**
     * The properties of {@code service}, then {@code overrides} (they come last and win: a caller's own
     * settings, e.g. a tokenizer folder or a mask rule, for every service).
     */
    static Map<String, String> of(PipelineService service, RunSettings run, Placement at, Map<String, String> overrides) {
        Map<String, String> props = switch (service) {
            case INGEST -> ingest(run, at);
            case CHAT_TEMPLATE -> chatTemplate(run, at);
            case TOKENIZE -> tokenize(run, at);
            case LOSS_MASK -> lossMask(run, at);
        };
        props.putAll(overrides);
        return props;
    }

    static Map<String, String> ingest(RunSettings run, Placement at) {
        return common(run, at);
    }

    static Map<String, String> chatTemplate(RunSettings run, Placement at) {
        return kafkaStreams(PipelineService.CHAT_TEMPLATE, run, at);
    }

    static Map<String, String> tokenize(RunSettings run, Placement at) {
        return kafkaStreams(PipelineService.TOKENIZE, run, at);
    }

    static Map<String, String> lossMask(RunSettings run, Placement at) {
        Map<String, String> props = kafkaStreams(PipelineService.LOSS_MASK, run, at);
        props.put(SEQ_LEN, String.valueOf(run.seqLen()));
        props.put(BATCH_SIZE, String.valueOf(run.batchSize()));
        props.put(BATCH_LINGER_MS, String.valueOf(run.batchLingerMs()));
        for (Stage stage : run.stages()) {
            if (run.packing().contains(stage)) {
                props.put(packing(stage), "on"); // other stages keep the service's own setting (off by default)
            }
        }
        return props;
    }

    /** {@code millrace.<stage>.packing}. */
    static String packing(Stage stage) {
        return "millrace." + stage.id() + ".packing";
    }

    /** What every service gets: its HTTP address, the broker, the stages and the topic prefix. */
    private static Map<String, String> common(RunSettings run, Placement at) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(HTTP_HOST, "127.0.0.1");
        props.put(HTTP_PORT, String.valueOf(at.httpPort()));
        props.put(BOOTSTRAP_SERVERS, at.bootstrapServers());
        props.put(STAGES, run.stages().stream().map(Stage::id).collect(Collectors.joining(",")));
        props.put(TOPIC_PREFIX, run.topicPrefix());
        return props;
    }

    private static Map<String, String> kafkaStreams(PipelineService service, RunSettings run, Placement at) {
        Map<String, String> props = common(run, at);
        // Per-run state: never reuse stores of an earlier run (another broker) from /tmp/kafka-streams.
        props.put(STREAMS_STATE_DIR, at.runDir().resolve("state").resolve(service.id()).toString());
        // The topics the app waits for before it starts: its steps of every stage, then the dead-letter topic.
        props.put(STREAMS_TOPICS, String.join(",", service.streamTopics(run.topics(), run.stages())));
        return props;
    }
}
