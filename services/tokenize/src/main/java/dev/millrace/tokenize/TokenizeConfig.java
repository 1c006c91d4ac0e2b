package dev.millrace.tokenize;

import dev.millrace.contract.SettingNames;
import dev.millrace.streams.config.PipelineConfig;
import io.smallrye.config.ConfigMapping;

/**
 * Everything tokenize reads under {@code millrace.} (docs/architecture.md#service-settings): the
 * common settings only (stages, tokenizer folder, topic prefix, per-stage options, of which it uses
 * wrap for pretrain and, for the conversation stages, what core's preparer is built with).
 */
@ConfigMapping(prefix = SettingNames.PREFIX)
public interface TokenizeConfig extends PipelineConfig {
}
