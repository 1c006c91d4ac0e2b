package dev.millrace.ingest;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;

/**
 * Lets the keys the other services read (and {@code millrace.repo.root}) through SmallRye's
 * unknown-key check, which stops ingest on any other key under {@code millrace.} that
 * {@link IngestConfig} does not map: contract's {@link SettingNames#letThrough}, the one list of which
 * service reads which key. Registered in META-INF/services, where Quarkus finds it. The Kafka Streams
 * services do the same with streams-common's OtherServicesSettings, which ingest cannot use (it
 * would bring Kafka Streams).
 */
public final class IngestOtherServicesSettings implements SmallRyeConfigBuilderCustomizer {
    @Override
    public void configBuilder(SmallRyeConfigBuilder builder) {
        SettingNames.letThrough(PipelineService.INGEST).forEach(builder::withMappingIgnore);
    }
}
