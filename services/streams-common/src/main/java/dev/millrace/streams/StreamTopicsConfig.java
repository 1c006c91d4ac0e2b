package dev.millrace.streams;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.PropertiesConfigSource;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.spi.ConfigSource;

/**
 * Computes {@code quarkus.kafka-streams.topics} (the topics a Kafka Streams app waits for before it
 * starts) from the service it is ({@code millrace.service}, a {@link PipelineService} id) and the
 * stages it serves: for each stage of {@code millrace.stages}, the topic of the step the service
 * reads and of the step it writes, then the dead-letter topic, all under
 * {@code millrace.topic-prefix}. An app that sets no {@code millrace.service} gets nothing from here,
 * nor does one whose service or stages are not valid: its typed config then stops it at startup,
 * naming the key and the value. The value has a lower ordinal than {@code application.properties},
 * so an explicit {@code quarkus.kafka-streams.topics} anywhere still wins.
 */
public final class StreamTopicsConfig implements ConfigSourceFactory {
    public static final String SERVICE = SettingNames.key(SettingNames.SERVICE);
    public static final String TOPICS = "quarkus.kafka-streams.topics";
    /** Below application.properties in the jar (250), above microprofile-config.properties (100). */
    static final int ORDINAL = 200;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        String service = value(context, SERVICE);
        if (service == null) {
            return List.of();
        }
        String stages = value(context, SettingNames.key(SettingNames.STAGES));
        String prefix = value(context, SettingNames.key(SettingNames.TOPIC_PREFIX));
        String topics;
        try {
            topics = topics(service, stages == null ? SettingNames.DEFAULT_STAGES : stages,
                    prefix == null ? SettingNames.DEFAULT_TOPIC_PREFIX : prefix);
        } catch (IllegalArgumentException e) {
            return List.of(); // the typed config reports the bad value by its key
        }
        return List.of(new PropertiesConfigSource(Map.of(TOPICS, topics), "millrace stage topics", ORDINAL));
    }

    /** The comma-separated topics the service waits for when it serves {@code stages}. */
    static String topics(String service, String stages, String prefix) {
        List<Stage> served = list(stages).stream().map(Stage::fromId).toList();
        return String.join(",", PipelineService.fromId(service).streamTopics(new Topics(prefix), served));
    }

    private static List<String> list(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private static String value(ConfigSourceContext context, String name) {
        ConfigValue v = context.getValue(name);
        return v == null || v.getValue() == null || v.getValue().isBlank() ? null : v.getValue();
    }
}
