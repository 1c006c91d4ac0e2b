package dev.millrace.streams.config;

import static dev.millrace.contract.SettingNames.BATCH_LINGER_MS;
import static dev.millrace.contract.SettingNames.BATCH_SIZE;
import static dev.millrace.contract.SettingNames.DEDUP;
import static dev.millrace.contract.SettingNames.EXPIRY_MAX_PER_RUN;
import static dev.millrace.contract.SettingNames.INGEST;
import static dev.millrace.contract.SettingNames.PACK_LINGER_MS;
import static dev.millrace.contract.SettingNames.REPO_ROOT;
import static dev.millrace.contract.SettingNames.RETENTION_MS;
import static dev.millrace.contract.SettingNames.SEQ_LEN;
import static dev.millrace.contract.SettingNames.key;

import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;
import java.util.List;

/**
 * A key under {@code millrace.} that a service's typed config does not map stops the service at
 * startup (SmallRye's check for unknown keys, on in Quarkus), so a misspelt setting is never
 * silently ignored. The keys another service reads are the exception: one configuration may be
 * given to every service (e.g. the CLI's {@code LocalSystem.Options.property}), so a Kafka Streams
 * app lets ingest's ({@code millrace.ingest.*}) and the other Streams services' own keys through
 * unread, and so does it with {@code millrace.repo.root} (a system property of the build's test JVMs
 * and the CLI's launcher). The per-stage options and the common keys are mapped by every Streams
 * service.
 */
public final class OtherServicesSettings implements SmallRyeConfigBuilderCustomizer {
    static final List<String> IGNORED = List.of(
            key(INGEST) + ".**",
            key(DEDUP, RETENTION_MS), key(DEDUP, EXPIRY_MAX_PER_RUN), // chat-template
            key(SEQ_LEN), key(BATCH_SIZE), key(BATCH_LINGER_MS), key(PACK_LINGER_MS), // loss-mask
            key(REPO_ROOT)); // the launcher's and the test JVMs' system property, no service setting

    @Override
    public void configBuilder(SmallRyeConfigBuilder builder) {
        IGNORED.forEach(builder::withMappingIgnore);
    }
}
