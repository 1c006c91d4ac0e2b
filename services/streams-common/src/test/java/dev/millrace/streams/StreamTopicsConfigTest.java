package dev.millrace.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The topics a Streams app waits for follow its stages, topic prefix and steps. */
class StreamTopicsConfigTest {

    private static SmallRyeConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(properties, "application.properties", 250))
                .withSources(new StreamTopicsConfig())
                .build();
    }

    @Test
    void theStepsOfEveryStageThenTheDeadLetterTopic() {
        SmallRyeConfig config = config(Map.of("millrace.stages", "pretrain,dpo", "millrace.topic-steps", "templated,tokenized",
                "millrace.topic-prefix", "acme"));

        assertThat(config.getValues(StreamTopicsConfig.TOPICS, String.class)).containsExactly(
                "acme.pretrain.templated", "acme.pretrain.tokenized", "acme.dpo.templated", "acme.dpo.tokenized", "acme.dlq");
    }

    @Test
    void theDefaultsAreTheSftStageAndTheMillracePrefix() {
        SmallRyeConfig config = config(Map.of("millrace.topic-steps", "raw,templated"));

        assertThat(config.getValues(StreamTopicsConfig.TOPICS, String.class))
                .containsExactly("millrace.sft.raw", "millrace.sft.templated", "millrace.dlq");
    }

    @Test
    void anExplicitTopicListWinsAndAServiceWithoutStepsGetsNone() {
        SmallRyeConfig explicit = config(Map.of("millrace.topic-steps", "raw", StreamTopicsConfig.TOPICS, "only.this"));
        SmallRyeConfig none = config(Map.of("millrace.stages", "sft"));

        assertThat(explicit.getValues(StreamTopicsConfig.TOPICS, String.class)).containsExactly("only.this");
        assertThat(none.getOptionalValue(StreamTopicsConfig.TOPICS, String.class)).isEqualTo(Optional.empty());
    }

    @Test
    void anUnknownStepOrStageIsRefusedByName() {
        assertThatThrownBy(() -> StreamTopicsConfig.topics("sft", "millrace", "raw,cooked"))
                .hasMessageContaining("'cooked'");
        assertThatThrownBy(() -> StreamTopicsConfig.topics("sft,rlhf", "millrace", "raw"))
                .hasMessageContaining("'rlhf'");
    }
}
