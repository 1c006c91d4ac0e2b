package dev.millrace.streams;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The settings every stream service shares: the stages it serves ({@code millrace.stages}), its
 * tokenizer folder ({@code millrace.tokenizer}; empty = the bundled one) and its topic names
 * ({@code millrace.topic-prefix}).
 */
public record PipelineSettings(List<Stage> stages, TokenizerFolder folder, Topics topics) {

    public static PipelineSettings fromConfig() {
        Config config = ConfigProvider.getConfig();
        return of(config.getValues("millrace.stages", String.class),
                config.getOptionalValue("millrace.tokenizer", String.class),
                config.getOptionalValue("millrace.topic-prefix", String.class).orElse("millrace"));
    }

    public static PipelineSettings of(List<String> stages, Optional<String> tokenizer, String topicPrefix) {
        return new PipelineSettings(stages.stream().map(Stage::fromId).toList(), TokenizerFolders.load(tokenizer), new Topics(topicPrefix));
    }
}
