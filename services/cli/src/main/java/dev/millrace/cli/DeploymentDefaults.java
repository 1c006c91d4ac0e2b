package dev.millrace.cli;

import dev.millrace.core.record.Stage;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the commands that talk to a running deployment ({@code ingest}, {@code trace}, {@code dlq},
 * {@code batches}, {@code status})
 * look when not told otherwise: the addresses and topic prefix the services use by default.
 */
final class DeploymentDefaults {
    /** The broker address of a local deployment (the services' default {@code kafka.bootstrap.servers}). */
    static final String BOOTSTRAP = "127.0.0.1:9092";
    /** The ingest service's default HTTP address. */
    static final String INGEST_URL = "http://127.0.0.1:8081";
    /** The services' default {@code millrace.topic-prefix}. */
    static final String TOPIC_PREFIX = "millrace";

    /**
     * The services' default HTTP addresses ({@code quarkus.http.port} of each service's
     * application.properties, on 127.0.0.1), in pipeline order: where {@code status} looks.
     */
    static final Map<String, String> SERVICE_URLS = orderedMap(
            "ingest", "http://127.0.0.1:8081",
            "chat-template", "http://127.0.0.1:8082",
            "tokenize", "http://127.0.0.1:8083",
            "loss-mask", "http://127.0.0.1:8084",
            "trainer", "http://127.0.0.1:8085",
            "teacher", "http://127.0.0.1:8086");

    /**
     * The HTTP port of the trainer of {@code stage} that {@code ./millrace up} starts: 8090 + the stage's position
     * (the trainer's own default, 8085, allows one trainer per machine; 8086 is the teacher's). {@code status} looks
     * there too and lists the trainers that answer.
     */
    static int upTrainerPort(Stage stage) {
        return 8090 + stage.ordinal();
    }

    /** {@code trainer-<stage>} → {@code http://127.0.0.1:<upTrainerPort>} for every stage, in stage order. */
    static Map<String, String> upTrainerUrls() {
        Map<String, String> urls = new LinkedHashMap<>();
        for (Stage s : Stage.values()) {
            urls.put("trainer-" + s.id(), "http://127.0.0.1:" + upTrainerPort(s));
        }
        return Collections.unmodifiableMap(urls);
    }

    private static Map<String, String> orderedMap(String... keysAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return Collections.unmodifiableMap(map);
    }

    private DeploymentDefaults() {
    }
}
