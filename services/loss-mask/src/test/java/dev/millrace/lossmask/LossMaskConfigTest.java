package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.ServiceSettings;
import dev.millrace.contract.SettingNames;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.config.PretrainOverflow;
import dev.millrace.streams.testing.EveryServiceSettings;
import dev.millrace.streams.testing.MappedConfig;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** loss-mask's typed config: its defaults, a bad value stopping it by key and value, and every key the local run writes mapped. */
class LossMaskConfigTest {

    @Test
    void theDefaults() {
        LossMaskConfig config = MappedConfig.everyKeyMapped(LossMaskConfig.class, Map.of());

        assertThat(config.service()).isEqualTo(PipelineService.LOSS_MASK);
        assertThat(config.stages()).containsExactly(Stage.SFT);
        assertThat(config.seqLen()).isEqualTo(512);
        assertThat(config.batchSize()).isEqualTo(16);
        assertThat(config.batchLinger()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.packLinger()).as("the batch linger").isEqualTo(Duration.ofSeconds(5));
        assertThat(config.packs(Stage.SFT)).isFalse();
        assertThat(config.options(Stage.PRETRAIN).pretrainOverflow()).isEqualTo(PretrainOverflow.TRUNCATE);
        assertThat(config.options(Stage.SFT).packBuffer()).isEqualTo(512);
    }

    @Test
    void thePackLingerIsTheBatchLingerUnlessGiven() {
        assertThat(MappedConfig.of(LossMaskConfig.class, Map.of("millrace.batch-linger-ms", "300")).packLinger())
                .isEqualTo(Duration.ofMillis(300));
        assertThat(MappedConfig.of(LossMaskConfig.class, Map.of("millrace.batch-linger-ms", "300", "millrace.pack-linger-ms", "0"))
                .packLinger()).isZero();
    }

    @Test
    void aBadValueStopsTheServiceNamingTheKeyAndTheValue() {
        Map<String, String> bad = Map.of(
                "millrace.seq-len", "1",
                "millrace.batch-size", "0",
                "millrace.batch-linger-ms", "-1",
                "millrace.pack-linger-ms", "-5",
                "millrace.sft.pack-buffer", "0",
                "millrace.pretrain.pretrain-overflow", "wrap",
                "millrace.distill.packing", "oof",
                "millrace.train-on", "first");
        bad.forEach((key, value) -> assertThatThrownBy(() -> MappedConfig.of(LossMaskConfig.class, Map.of(key, value)))
                .as(key).hasMessageContaining("The config property " + key + " with the config value \"" + value + "\""));
        assertThatThrownBy(() -> MappedConfig.of(LossMaskConfig.class, Map.of("millrace.seq-len", "1"))).hasMessageContaining("must be at least 2");
        assertThatThrownBy(() -> MappedConfig.of(LossMaskConfig.class, Map.of("millrace.batch-linger-ms", "-1"))).hasMessageContaining("must be at least 0");
        assertThatThrownBy(() -> MappedConfig.of(LossMaskConfig.class, Map.of("millrace.batch-size", "16x"))).hasMessageContaining("expected a whole number");
        assertThatThrownBy(() -> MappedConfig.of(LossMaskConfig.class, Map.of("millrace.batch-sise", "16"))).as("a misspelt key")
                .hasMessageContaining("millrace.batch-sise");
    }

    @Test
    void packingDpoIsRefusedNamingTheKeyThatTurnedItOn() {
        LossMaskConfig perStage = MappedConfig.of(LossMaskConfig.class, Map.of("millrace.stages", "dpo", "millrace.dpo.packing", "on"));
        LossMaskConfig everyStage = MappedConfig.of(LossMaskConfig.class, Map.of("millrace.stages", "sft,dpo", "millrace.packing", "on"));
        LossMaskConfig dpoOff = MappedConfig.of(LossMaskConfig.class, Map.of("millrace.packing", "on", "millrace.dpo.packing", "off"));

        assertThatThrownBy(() -> perStage.packs(Stage.DPO)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("millrace.dpo.packing=on: packing is not offered for DPO").hasMessageEndingWith("set millrace.dpo.packing=off");
        assertThatThrownBy(() -> everyStage.packs(Stage.DPO)).hasMessageStartingWith("millrace.packing=on: packing is not offered for DPO");
        assertThat(everyStage.packs(Stage.SFT)).isTrue();
        assertThat(dpoOff.packs(Stage.DPO)).isFalse();
        assertThat(dpoOff.packs(Stage.PRETRAIN)).isTrue();
    }

    @Test
    void itMapsEveryKeyTheLocalRunWritesForIt() {
        ServiceSettings run = new ServiceSettings(List.of(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL), "acme", 128, 4, 700,
                EnumSet.of(Stage.PRETRAIN, Stage.SFT, Stage.DISTILL));

        LossMaskConfig config = MappedConfig.everyKeyMapped(LossMaskConfig.class, run.properties(PipelineService.LOSS_MASK));

        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.SFT, Stage.DPO, Stage.DISTILL);
        assertThat(config.topicPrefix()).isEqualTo("acme");
        assertThat(config.seqLen()).isEqualTo(128);
        assertThat(config.batchSize()).isEqualTo(4);
        assertThat(config.batchLinger()).isEqualTo(Duration.ofMillis(700));
        assertThat(List.of(Stage.PRETRAIN, Stage.SFT, Stage.DISTILL)).allMatch(config::packs);
        assertThat(config.packs(Stage.DPO)).isFalse();
    }

    @Test
    void itReadsTheKeysTheContractSaysItReadsAndLetsTheOtherServicesKeysThrough() {
        assertThat(MappedConfig.mappedKeys(LossMaskConfig.class)).isEqualTo(SettingNames.readBy(PipelineService.LOSS_MASK));
        assertThat(MappedConfig.registeredOtherServicesSettings().service()).as("META-INF/services").isEqualTo(PipelineService.LOSS_MASK);
    }

    @Test
    void aMisspeltKeyStopsItButEveryKeyAnotherServiceReadsAndTheRepoRootPass() {
        for (String misspelt : List.of("millrace.ingest.max-record-byte", "millrace.trainer.max-step",
                "millrace.seq-lne", "millrace.sft.mask-rul", "millrace.batch-sise", "millrace.pack-linger")) {
            assertThatThrownBy(() -> MappedConfig.of(LossMaskConfig.class, Map.of(misspelt, "1"))).as(misspelt)
                    .hasMessageContaining(misspelt);
        }
        assertThat(MappedConfig.of(LossMaskConfig.class, Map.of("millrace.repo.root", "/repo")).stages()).containsExactly(Stage.SFT);

        Map<String, String> othersKeys = EveryServiceSettings.ofServicesOtherThan(PipelineService.LOSS_MASK);
        assertThat(othersKeys).containsKeys("millrace.ingest.max-record-bytes", "millrace.ingest.drop-dir", "millrace.trainer.stage",
                "millrace.trainer.max-steps");
        assertThat(MappedConfig.of(LossMaskConfig.class, othersKeys).stages()).containsExactly(Stage.SFT);

        Map<String, String> oneConfigForEveryService = new HashMap<>(othersKeys);
        oneConfigForEveryService.putAll(EveryServiceSettings.of(PipelineService.LOSS_MASK));
        oneConfigForEveryService.put("millrace.repo.root", "/repo");
        LossMaskConfig config = MappedConfig.of(LossMaskConfig.class, oneConfigForEveryService);
        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.SFT);
        assertThat(config.seqLen()).isEqualTo(128);
        assertThat(config.packLinger()).isEqualTo(Duration.ofMillis(900));
        assertThat(config.packs(Stage.PRETRAIN)).isTrue();
    }
}
