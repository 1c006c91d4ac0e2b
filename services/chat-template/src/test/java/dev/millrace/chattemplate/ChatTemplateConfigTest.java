package dev.millrace.chattemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.contract.SettingNames;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.testing.EveryServiceSettings;
import dev.millrace.streams.testing.MappedConfig;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** chat-template's typed config: its defaults, a bad value stopping it by key and value, and every key the local run writes mapped. */
class ChatTemplateConfigTest {

    @Test
    void theDefaults() {
        ChatTemplateConfig config = MappedConfig.everyKeyMapped(ChatTemplateConfig.class, Map.of());

        assertThat(config.service()).isEqualTo(PipelineService.CHAT_TEMPLATE);
        assertThat(config.stages()).containsExactly(Stage.SFT);
        assertThat(config.dedup().retention()).isEqualTo(Duration.ofDays(7));
        assertThat(config.dedup().expiryMaxPerRun()).isEqualTo(10_000);
        assertThat(config.maxMessages()).isEqualTo(1000);
        assertThat(config.recordBounds().timeBudget()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void aBadBoundStopsTheServiceNamingTheKeyAndTheValue() {
        for (String key : List.of("millrace.max-messages", "millrace.record-time-budget-ms")) {
            assertThatThrownBy(() -> MappedConfig.of(ChatTemplateConfig.class, Map.of(key, "0")))
                    .as(key).hasMessageContaining("The config property " + key + " with the config value \"0\"")
                    .hasMessageContaining("must be at least 1");
        }
        ChatTemplateConfig config = MappedConfig.of(ChatTemplateConfig.class, Map.of("millrace.max-messages", "20000",
                "millrace.record-time-budget-ms", "2500"));
        assertThat(config.recordBounds()).isEqualTo(new dev.millrace.core.prepare.RecordBounds(20_000, Duration.ofMillis(2500)));
    }

    @Test
    void aBadDedupSettingStopsTheServiceNamingTheKeyAndTheValue() {
        Map<String, String> bad = Map.of(
                "millrace.dedup.retention-ms", "0",
                "millrace.dedup.expiry-max-per-run", "-3");
        bad.forEach((key, value) -> assertThatThrownBy(() -> MappedConfig.of(ChatTemplateConfig.class, Map.of(key, value)))
                .as(key).hasMessageContaining("The config property " + key + " with the config value \"" + value + "\"")
                .hasMessageContaining("must be at least 1"));
        assertThatThrownBy(() -> MappedConfig.of(ChatTemplateConfig.class, Map.of("millrace.dedup.retention-ms", "7d")))
                .hasMessageContaining("millrace.dedup.retention-ms").hasMessageContaining("\"7d\"").hasMessageContaining("expected a whole number");
        assertThatThrownBy(() -> MappedConfig.of(ChatTemplateConfig.class, Map.of("millrace.dedup.retension-ms", "1000")))
                .as("a misspelt key").hasMessageContaining("millrace.dedup.retension-ms");
    }

    @Test
    void itMapsEveryKeyTheLocalRunWritesForIt() {
        ServiceSettings run = new ServiceSettings(List.of(Stage.PRETRAIN, Stage.DPO), "acme", 128, 4, 700, EnumSet.of(Stage.PRETRAIN));

        ChatTemplateConfig config = MappedConfig.everyKeyMapped(ChatTemplateConfig.class, run.properties(PipelineService.CHAT_TEMPLATE));

        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.DPO);
        assertThat(config.topicPrefix()).isEqualTo("acme");
    }

    @Test
    void itReadsTheKeysTheContractSaysItReadsAndLetsTheOtherServicesKeysThrough() {
        assertThat(MappedConfig.mappedKeys(ChatTemplateConfig.class)).isEqualTo(SettingNames.readBy(PipelineService.CHAT_TEMPLATE));
        assertThat(MappedConfig.registeredOtherServicesSettings().service()).as("META-INF/services").isEqualTo(PipelineService.CHAT_TEMPLATE);
    }

    @Test
    void aMisspeltKeyStopsItButEveryKeyAnotherServiceReadsAndTheRepoRootPass() {
        for (String misspelt : List.of("millrace.ingest.max-record-byte", "millrace.trainer.max-step",
                "millrace.seq-lne", "millrace.sft.mask-rul", "millrace.dedup.retension-ms", "millrace.dedup")) {
            assertThatThrownBy(() -> MappedConfig.of(ChatTemplateConfig.class, Map.of(misspelt, "1"))).as(misspelt)
                    .hasMessageContaining(misspelt);
        }
        assertThat(MappedConfig.of(ChatTemplateConfig.class, Map.of("millrace.repo.root", "/repo")).stages()).containsExactly(Stage.SFT);

        Map<String, String> othersKeys = EveryServiceSettings.ofServicesOtherThan(PipelineService.CHAT_TEMPLATE);
        assertThat(othersKeys).containsKeys("millrace.ingest.max-record-bytes", "millrace.ingest.drop-dir", "millrace.trainer.stage",
                "millrace.trainer.max-steps");
        assertThat(MappedConfig.of(ChatTemplateConfig.class, othersKeys).stages()).containsExactly(Stage.SFT);

        Map<String, String> oneConfigForEveryService = new HashMap<>(othersKeys);
        oneConfigForEveryService.putAll(EveryServiceSettings.of(PipelineService.CHAT_TEMPLATE));
        oneConfigForEveryService.put("millrace.repo.root", "/repo");
        ChatTemplateConfig config = MappedConfig.of(ChatTemplateConfig.class, oneConfigForEveryService);
        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.SFT);
        assertThat(config.dedup().retentionMs()).isEqualTo(1000);
        assertThat(config.options(Stage.DPO).maskRule()).contains(MaskRule.SPAN);
    }
}
