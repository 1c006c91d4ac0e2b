package dev.millrace.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.testing.MappedConfig;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** tokenize's typed config: its defaults, a bad value stopping it by key and value, and every key the local run writes mapped. */
class TokenizeConfigTest {

    @Test
    void theDefaults() {
        TokenizeConfig config = MappedConfig.everyKeyMapped(TokenizeConfig.class, Map.of());

        assertThat(config.service()).isEqualTo(PipelineService.TOKENIZE);
        assertThat(config.stages()).containsExactly(Stage.SFT);
        assertThat(config.options(Stage.PRETRAIN).wrap()).isEqualTo(Wrap.AUTO);
    }

    @Test
    void aBadValueStopsTheServiceNamingTheKeyAndTheValue() {
        Map<String, String> bad = Map.of(
                "millrace.stages", "pretrain,SFT",
                "millrace.wrap", "sometimes",
                "millrace.pretrain.wrap", "yes",
                "millrace.sft.mask-rule", "spam");
        bad.forEach((key, value) -> assertThatThrownBy(() -> MappedConfig.of(TokenizeConfig.class, Map.of(key, value)))
                .as(key).hasMessageContaining("The config property " + key + " with the config value \"" + value + "\""));
        assertThatThrownBy(() -> MappedConfig.of(TokenizeConfig.class, Map.of("millrace.pretrain.wrp", "never")))
                .as("a misspelt key").hasMessageContaining("millrace.pretrain.wrp");
    }

    @Test
    void itMapsEveryKeyTheLocalRunWritesForIt() {
        ServiceSettings run = new ServiceSettings(List.of(Stage.PRETRAIN, Stage.DPO), "acme", 128, 4, 700, EnumSet.of(Stage.PRETRAIN));

        TokenizeConfig config = MappedConfig.everyKeyMapped(TokenizeConfig.class, run.properties(PipelineService.TOKENIZE));

        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.DPO);
        assertThat(config.topicPrefix()).isEqualTo("acme");
    }
}
