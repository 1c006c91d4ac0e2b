package dev.millrace.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The topics a Streams app waits for follow from the service it is, its stages and topic prefix. */
class StreamTopicsConfigTest {

    private static SmallRyeConfig config(Map<String, String> properties) {
        return new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(properties, "application.properties", 250))
                .withSources(new StreamTopicsConfig())
                .build();
    }

    @Test
    void theStepsTheServiceReadsAndWritesOfEveryStageThenTheDeadLetterTopic() {
        SmallRyeConfig config = config(Map.of("millrace.stages", "pretrain,dpo", "millrace.service", "tokenize",
                "millrace.topic-prefix", "acme"));

        assertThat(config.getValues(StreamTopicsConfig.TOPICS, String.class)).containsExactly(
                "acme.pretrain.templated", "acme.pretrain.tokenized", "acme.dpo.templated", "acme.dpo.tokenized", "acme.dlq");
    }

    @Test
    void theDefaultsAreTheSftStageAndTheMillracePrefix() {
        assertThat(config(Map.of("millrace.service", "chat-template")).getValues(StreamTopicsConfig.TOPICS, String.class))
                .containsExactly("millrace.sft.raw", "millrace.sft.templated", "millrace.dlq");
        assertThat(config(Map.of("millrace.service", "loss-mask")).getValues(StreamTopicsConfig.TOPICS, String.class))
                .containsExactly("millrace.sft.tokenized", "millrace.sft.batches", "millrace.dlq");
    }

    @Test
    void anExplicitTopicListWinsAndAnAppThatNamesNoServiceGetsNone() {
        SmallRyeConfig explicit = config(Map.of("millrace.service", "chat-template", StreamTopicsConfig.TOPICS, "only.this"));
        SmallRyeConfig none = config(Map.of("millrace.stages", "sft"));

        assertThat(explicit.getValues(StreamTopicsConfig.TOPICS, String.class)).containsExactly("only.this");
        assertThat(none.getOptionalValue(StreamTopicsConfig.TOPICS, String.class)).isEqualTo(Optional.empty());
    }

    @Test
    void aBadServiceOrStageGivesNoTopicsTheTypedConfigReportsItByKey() {
        assertThat(config(Map.of("millrace.service", "tokenize", "millrace.stages", "sft,rlhf"))
                .getOptionalValue(StreamTopicsConfig.TOPICS, String.class)).isEmpty();
        assertThat(config(Map.of("millrace.service", "cooker")).getOptionalValue(StreamTopicsConfig.TOPICS, String.class)).isEmpty();
    }

    @Test
    void anUnknownServiceOrStageIsRefusedByName() {
        assertThatThrownBy(() -> StreamTopicsConfig.topics("cooker", "sft", "millrace"))
                .hasMessageContaining("'cooker'");
        assertThatThrownBy(() -> StreamTopicsConfig.topics("tokenize", "sft,rlhf", "millrace"))
                .hasMessageContaining("'rlhf'");
    }
}
