package dev.millrace.streams.config;

import dev.millrace.contract.SettingNames;
import io.smallrye.config.ConfigMapping;

/** A typed config with only the common settings, as a Streams service that adds none of its own would have. */
@ConfigMapping(prefix = SettingNames.PREFIX)
interface TestPipelineConfig extends PipelineConfig {
}
