package dev.millrace.streams.config;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;

/**
 * A key under {@code millrace.} that a service's typed config does not map stops the service at
 * startup (SmallRye's check for unknown keys, on in Quarkus), so a misspelt setting is never
 * silently ignored. The keys another service reads are the exception, so that one configuration may
 * be given to every service: this lets exactly those through, and {@code millrace.repo.root}
 * (contract's {@link SettingNames#letThrough}, the one list of which service reads which key).
 *
 * <p>Each Kafka Streams service registers its subclass, which names the service, in
 * {@code META-INF/services/io.smallrye.config.SmallRyeConfigBuilderCustomizer}; Quarkus applies it
 * when it builds the config. (Ingest, which has no Kafka Streams, has its own.)
 */
public class OtherServicesSettings implements SmallRyeConfigBuilderCustomizer {
    private final PipelineService service;

    public OtherServicesSettings(PipelineService service) {
        this.service = service;
    }

    /** The service whose config this customizes. */
    public PipelineService service() {
        return service;
    }

    @Override
    public void configBuilder(SmallRyeConfigBuilder builder) {
        SettingNames.letThrough(service).forEach(builder::withMappingIgnore);
    }
}
