package dev.millrace.ingest;

import static dev.millrace.contract.SettingNames.DEFAULT_STAGES;
import static dev.millrace.contract.SettingNames.DEFAULT_TOPIC_PREFIX;
import static dev.millrace.contract.SettingNames.DROP_CHUNK_BYTES;
import static dev.millrace.contract.SettingNames.DROP_CHUNK_LINES;
import static dev.millrace.contract.SettingNames.DROP_DIR;
import static dev.millrace.contract.SettingNames.DROP_POLL_MS;
import static dev.millrace.contract.SettingNames.INGEST;
import static dev.millrace.contract.SettingNames.MAX_BODY_BYTES;
import static dev.millrace.contract.SettingNames.MAX_CONCURRENT_REQUESTS;
import static dev.millrace.contract.SettingNames.MAX_RECORD_BYTES;
import static dev.millrace.contract.SettingNames.STAGES;
import static dev.millrace.contract.SettingNames.TOPIC_PREFIX;

import dev.millrace.contract.SettingNames;
import dev.millrace.core.record.Stage;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithConverter;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Everything ingest reads under {@code millrace.}, typed, with its defaults, checked when the service
 * starts: a bad value stops it with a message naming the key and the value. The key names are
 * contract's {@link SettingNames}; the keys and what they mean are the ingest rows of
 * docs/architecture.md#service-settings.
 *
 * <p>Any other key under {@code millrace.} stops the service too (SmallRye's unknown-key check), a
 * misspelt one above all, except the keys the other services read ({@link IngestOtherServicesSettings}),
 * so that one configuration can serve every service.
 */
@ConfigMapping(prefix = SettingNames.PREFIX)
public interface IngestConfig {
    /** {@code millrace.stages}: the stages this instance accepts; an unknown one stops the service. */
    @WithName(STAGES)
    @WithDefault(DEFAULT_STAGES)
    @WithConverter(ConfigConverters.StageId.class)
    List<Stage> stages();

    /** {@code millrace.topic-prefix}. */
    @WithName(TOPIC_PREFIX)
    @WithDefault(DEFAULT_TOPIC_PREFIX)
    String topicPrefix();

    /** {@code millrace.ingest.*}. */
    @WithName(INGEST)
    Ingest ingest();

    interface Ingest {
        /** A longer line is RECORD_TOO_LARGE (its dead letter keeps this many bytes of it). */
        @WithName(MAX_RECORD_BYTES)
        @WithDefault("1048576")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int maxRecordBytes();

        /** A longer body is answered 413 (ingest counts the bytes as it reads them). */
        @WithName(MAX_BODY_BYTES)
        @WithDefault("67108864")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long maxBodyBytes();

        /**
         * How many HTTP bodies are read at once; one more is answered 429. Sized for the demo's 256 MiB
         * heap: each holds at most about a line's parse and {@link RecordProducer#MAX_UNACKNOWLEDGED_BYTES}.
         */
        @WithName(MAX_CONCURRENT_REQUESTS)
        @WithDefault("4")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int maxConcurrentRequests();

        /** The drop directory, absolute; empty or absent: off. */
        @WithName(DROP_DIR)
        @WithConverter(ConfigConverters.DropDir.class)
        Optional<Path> dropDir();

        /** How often the drop directory is listed. */
        @WithName(DROP_POLL_MS)
        @WithDefault("1000")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long dropPollMs();

        /** A file is produced in chunks of at most this many lines ... */
        @WithName(DROP_CHUNK_LINES)
        @WithDefault("1000")
        @WithConverter(ConfigConverters.PositiveInt.class)
        int dropChunkLines();

        /** ... or about this many bytes (the line that crosses it ends the chunk). */
        @WithName(DROP_CHUNK_BYTES)
        @WithDefault("4194304")
        @WithConverter(ConfigConverters.PositiveLong.class)
        long dropChunkBytes();
    }
}
