package dev.millrace.tokenize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.contract.SettingNames;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.testing.EveryServiceSettings;
import dev.millrace.streams.testing.MappedConfig;
import java.util.EnumSet;
import java.util.HashMap;
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

    @Test
    void itReadsTheKeysTheContractSaysItReadsAndLetsTheOtherServicesKeysThrough() {
        assertThat(MappedConfig.mappedKeys(TokenizeConfig.class)).isEqualTo(SettingNames.readBy(PipelineService.TOKENIZE));
        assertThat(MappedConfig.registeredOtherServicesSettings().service()).as("META-INF/services").isEqualTo(PipelineService.TOKENIZE);
    }

    @Test
    void aMisspeltKeyStopsItButEveryKeyAnotherServiceReadsAndTheRepoRootPass() {
        for (String misspelt : List.of("millrace.ingest.max-record-byte", "millrace.trainer.max-step",
                "millrace.seq-lne", "millrace.sft.mask-rul", "millrace.pretrain.wrp", "millrace.tokeniser")) {
            assertThatThrownBy(() -> MappedConfig.of(TokenizeConfig.class, Map.of(misspelt, "1"))).as(misspelt)
                    .hasMessageContaining(misspelt);
        }
        assertThat(MappedConfig.of(TokenizeConfig.class, Map.of("millrace.repo.root", "/repo")).stages()).containsExactly(Stage.SFT);

        Map<String, String> othersKeys = EveryServiceSettings.ofServicesOtherThan(PipelineService.TOKENIZE);
        assertThat(othersKeys).containsKeys("millrace.ingest.max-record-bytes", "millrace.ingest.drop-dir", "millrace.trainer.stage",
                "millrace.trainer.max-steps");
        assertThat(MappedConfig.of(TokenizeConfig.class, othersKeys).stages()).containsExactly(Stage.SFT);

        Map<String, String> oneConfigForEveryService = new HashMap<>(othersKeys);
        oneConfigForEveryService.putAll(EveryServiceSettings.of(PipelineService.TOKENIZE));
        oneConfigForEveryService.put("millrace.repo.root", "/repo");
        TokenizeConfig config = MappedConfig.of(TokenizeConfig.class, oneConfigForEveryService);
        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.SFT);
        assertThat(config.options(Stage.PRETRAIN).wrap()).isEqualTo(Wrap.NEVER);
        assertThat(config.tokenizer()).contains("/models/tok");
    }
}
