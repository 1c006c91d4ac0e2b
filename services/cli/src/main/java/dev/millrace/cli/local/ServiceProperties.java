package dev.millrace.cli.local;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.contract.SettingNames;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How each packaged service (and trainer, and the teacher) of a local run is configured: the system properties ({@code -D}) it is
 * started with. The services' own settings ({@code millrace.*}) come from the run's typed
 * {@link ServiceSettings}, which writes them under the key names the services' typed configs use
 * (millrace-contract's SettingNames; each service module tests that it maps every one); this class
 * adds where the process runs: its HTTP address, the broker, and for a Kafka Streams app its state
 * directory and the topics it waits for.
 */
final class ServiceProperties {
    static final String HTTP_HOST = "quarkus.http.host";
    static final String HTTP_PORT = "quarkus.http.port";
    static final String BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
    static final String STREAMS_STATE_DIR = "kafka-streams.state.dir";
    static final String STREAMS_TOPICS = "quarkus.kafka-streams.topics";

    private ServiceProperties() {
    }

    /** Where one service process runs: the broker's address, its HTTP port, and the run directory (Kafka Streams state goes under it). */
    record Placement(String bootstrapServers, int httpPort, Path runDir) {
    }

    /**
     * The properties of {@code service}, then {@code overrides} (they come last and win: a caller's own
     * settings, e.g. a tokenizer folder or a mask rule, for every service).
     */
    static Map<String, String> of(PipelineService service, ServiceSettings run, Placement at, Map<String, String> overrides) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(HTTP_HOST, "127.0.0.1");
        props.put(HTTP_PORT, String.valueOf(at.httpPort()));
        props.put(BOOTSTRAP_SERVERS, at.bootstrapServers());
        if (service.isStreamsApp()) {
            // Per-run state: never reuse stores of an earlier run (another broker) from /tmp/kafka-streams.
            props.put(STREAMS_STATE_DIR, at.runDir().resolve("state").resolve(service.id()).toString());
            // The topics the app waits for before it starts: its steps of every stage, then the dead-letter topic.
            props.put(STREAMS_TOPICS, String.join(",", service.streamTopics(run.topics(), run.stages())));
        }
        props.putAll(run.properties(service));
        props.putAll(overrides);
        return props;
    }

    /**
     * The properties of a trainer: its HTTP address, the broker, the run's topic prefix and T (the batches'),
     * its own {@code millrace.trainer.*} settings, then {@code overrides}.
     */
    static Map<String, String> ofTrainer(TrainerOptions trainer, ServiceSettings run, Placement at, Map<String, String> overrides) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(HTTP_HOST, "127.0.0.1");
        props.put(HTTP_PORT, String.valueOf(at.httpPort()));
        props.put(BOOTSTRAP_SERVERS, at.bootstrapServers());
        props.put(SettingNames.key(SettingNames.TOPIC_PREFIX), run.topicPrefix());
        props.put(SettingNames.key(SettingNames.SEQ_LEN), String.valueOf(run.seqLen()));
        trainer.trainerSettings().forEach((name, value) -> props.put(SettingNames.key(TRAINER_GROUP, name), value));
        props.putAll(overrides);
        return props;
    }

    static final String TRAINER_GROUP = "trainer";

    /**
     * The properties of the teacher: its HTTP address, the broker, the run's topic prefix, its own
     * {@code millrace.teacher.*} settings, then {@code overrides}.
     */
    static Map<String, String> ofTeacher(TeacherOptions teacher, ServiceSettings run, Placement at, Map<String, String> overrides) {
        Map<String, String> props = new LinkedHashMap<>();
        props.put(HTTP_HOST, "127.0.0.1");
        props.put(HTTP_PORT, String.valueOf(at.httpPort()));
        props.put(BOOTSTRAP_SERVERS, at.bootstrapServers());
        props.put(SettingNames.key(SettingNames.TOPIC_PREFIX), run.topicPrefix());
        teacher.teacherSettings().forEach((name, value) -> props.put(SettingNames.key(SettingNames.TEACHER, name), value));
        props.putAll(overrides);
        return props;
    }
}
