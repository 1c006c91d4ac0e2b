package dev.millrace.ingest;

import dev.millrace.core.record.Stage;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Everything ingest reads under {@code millrace.}, typed, with its defaults, checked when the service
 * starts: a bad value stops it with a message naming the key and the value. The keys and what they
 * mean are the ingest rows of docs/architecture.md#service-settings.
 *
 * <p>Keys of the other services under {@code millrace.} are left alone, so that one config file can
 * serve every service ({@code quarkus.config.mapping.validate-unknown=false} in application.properties);
 * under {@code millrace.ingest.}, which only ingest reads, an unknown key is a typo and stops the
 * service ({@link UnknownIngestKeys}).
 */
@ConfigMapping(prefix = "millrace")
public interface IngestConfig {
    /** The keys only ingest reads. */
    String INGEST_PREFIX = "millrace.ingest.";

    /** {@code millrace.stages}: the stages this instance accepts; an unknown one stops the service. */
    @WithDefault("sft")
    @WithConverter(ConfigConverters.StageId.class)
    List<Stage> stages();

    /** {@code millrace.topic-prefix}. */
    @WithDefault("millrace")
    String topicPrefix();

    /** {@code millrace.ingest.*}. */
    Ingest ingest();

    /** The names under {@link #INGEST_PREFIX} among these that this mapping does not read, sorted. */
    static List<String> unknownIngestKeys(Iterable<String> propertyNames) {
        Set<String> known = ConfigMappings.getProperties(new ConfigMappings.ConfigClass(IngestConfig.class, "millrace")).keySet();
        Set<String> unknown = new TreeSet<>();
        for (String name : propertyNames) {
            if (name.startsWith(INGEST_PREFIX) && !known.contains(name)) {
                unknown.add(name);
            }
        }
        return List.copyOf(unknown);
    }

    interface Ingest {
        /** A longer line is RECORD_TOO_LARGE (its dead letter keeps this many bytes of it). */
        @WithDefault("1048576")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int maxRecordBytes();

        /** A longer body is answered 413; also {@code quarkus.http.limits.max-body-size}. */
        @WithDefault("67108864")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long maxBodyBytes();

        /** The drop directory, absolute; empty or absent: off. */
        @WithConverter(ConfigConverters.DropDir.class)
        Optional<Path> dropDir();

        /** How often the drop directory is listed. */
        @WithDefault("1000")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long dropPollMs();

        /** A file is produced in chunks of at most this many lines ... */
        @WithDefault("1000")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int dropChunkLines();

        /** ... or about this many bytes (the line that crosses it ends the chunk). */
        @WithDefault("4194304")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long dropChunkBytes();
    }
}
