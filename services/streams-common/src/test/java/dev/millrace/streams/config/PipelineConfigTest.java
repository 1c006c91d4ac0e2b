package dev.millrace.streams.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import dev.millrace.contract.Topics;
import dev.millrace.core.mask.MaskRule;
import dev.millrace.core.mask.TrainOn;
import dev.millrace.core.prepare.PartialRenderPolicy;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SpecialTokenPolicy;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.testing.MappedConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The settings every Streams service shares: defaults, the per-stage rule, and a bad value stopping the mapping by its key. */
class PipelineConfigTest {

    private static PipelineConfig config(Map<String, String> values) {
        Map<String, String> all = new HashMap<>(Map.of("millrace.service", "tokenize"));
        all.putAll(values);
        return MappedConfig.of(TestPipelineConfig.class, all, PipelineService.TOKENIZE);
    }

    @Test
    void theDefaults() {
        PipelineConfig config = config(Map.of());

        assertThat(config.stages()).containsExactly(Stage.SFT);
        assertThat(config.topics()).isEqualTo(Topics.DEFAULT);
        assertThat(config.tokenizer()).as("the bundled tokenizer folder").isEmpty();
        assertThat(config.service()).isEqualTo(PipelineService.TOKENIZE);
        assertThat(config.stuckRecordAfterMs()).isEqualTo(60_000L);
        assertThat(config(Map.of("millrace.stuck-record-after-ms", "5000")).stuckRecordAfterMs()).isEqualTo(5000L);
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> config(Map.of("millrace.stuck-record-after-ms", "0"))))
                .hasMessageContaining("millrace.stuck-record-after-ms").hasMessageContaining("must be at least 1");
        assertThat(config.options(Stage.SFT)).isEqualTo(new StageOptions(Stage.SFT, Optional.empty(), TrainOn.ALL,
                SpecialTokenPolicy.ALLOW, Optional.empty(), PartialRenderPolicy.REJECT, Wrap.AUTO, PretrainOverflow.TRUNCATE, Packing.OFF, 512));
    }

    @Test
    void theStagesInTheirOrderTheTokenizerAndThePrefix() {
        PipelineConfig config = config(Map.of("millrace.stages", "dpo, pretrain", "millrace.tokenizer", "/models/tok",
                "millrace.topic-prefix", "acme"));

        assertThat(config.stages()).containsExactly(Stage.DPO, Stage.PRETRAIN);
        assertThat(config.tokenizer()).contains("/models/tok");
        assertThat(config.topics()).isEqualTo(new Topics("acme"));
        assertThat(config(Map.of("millrace.tokenizer", "")).tokenizer()).as("empty: the bundled one").isEmpty();
    }

    @Test
    void aStagesOwnValueWinsOverTheValueForEveryStageWhichWinsOverTheDefault() {
        PipelineConfig config = config(Map.of("millrace.mask-rule", "span", "millrace.sft.mask-rule", "pattern",
                "millrace.train-on", "last", "millrace.dpo.special-tokens-in-content", "reject",
                "millrace.system-prompt", "Be brief.", "millrace.distill.system-prompt", "Be kind.",
                "millrace.partial-render", "accept", "millrace.sft.partial-render", "reject"));

        StageOptions sft = config.options(Stage.SFT);
        StageOptions dpo = config.options(Stage.DPO);
        StageOptions distill = config.options(Stage.DISTILL);
        assertThat(sft.maskRule()).contains(MaskRule.PATTERN);
        assertThat(dpo.maskRule()).contains(MaskRule.SPAN);
        assertThat(sft.trainOn()).isEqualTo(TrainOn.LAST);
        assertThat(dpo.specialTokens()).isEqualTo(SpecialTokenPolicy.REJECT);
        assertThat(sft.specialTokens()).isEqualTo(SpecialTokenPolicy.ALLOW);
        assertThat(sft.systemPrompt()).contains("Be brief.");
        assertThat(distill.systemPrompt()).contains("Be kind.");
        assertThat(sft.partialRender()).isEqualTo(PartialRenderPolicy.REJECT);
        assertThat(dpo.partialRender()).isEqualTo(PartialRenderPolicy.ACCEPT);
        assertThat(dpo.sftOptions(64)).isEqualTo(new SftOptions(Stage.DPO, 64, null, MaskRule.SPAN, TrainOn.LAST,
                SpecialTokenPolicy.REJECT, "Be brief.", PartialRenderPolicy.ACCEPT));
    }

    @Test
    void eachStageReadsItsOwnGroup() {
        Map<String, String> values = new HashMap<>();
        for (Stage stage : Stage.values()) {
            values.put("millrace." + stage.id() + ".pack-buffer", String.valueOf(10 + stage.ordinal()));
        }
        values.put("millrace.pretrain.wrap", "never");
        values.put("millrace.pretrain.pretrain-overflow", "split");
        values.put("millrace.sft.packing", "on");
        PipelineConfig config = config(values);

        for (Stage stage : Stage.values()) {
            assertThat(config.options(stage).packBuffer()).as(stage.id()).isEqualTo(10 + stage.ordinal());
            assertThat(config.options(stage).stage()).isEqualTo(stage);
        }
        assertThat(config.options(Stage.PRETRAIN).wrap()).isEqualTo(Wrap.NEVER);
        assertThat(config.options(Stage.SFT).wrap()).isEqualTo(Wrap.AUTO);
        assertThat(config.options(Stage.PRETRAIN).pretrainOverflow()).isEqualTo(PretrainOverflow.SPLIT);
        assertThat(config.options(Stage.SFT).packing()).isEqualTo(Packing.ON);
        assertThat(config.options(Stage.DISTILL).packing()).isEqualTo(Packing.OFF);
    }

    @Test
    void aBadValueOfEachCommonKeyStopsTheMappingNamingTheKeyAndTheValue() {
        Map<String, String> bad = Map.ofEntries(
                Map.entry("millrace.stages", "sft,rlhf"),
                Map.entry("millrace.service", "cooker"),
                Map.entry("millrace.mask-rule", "spam"),
                Map.entry("millrace.sft.mask-rule", "Pattern"),
                Map.entry("millrace.train-on", "first"),
                Map.entry("millrace.dpo.train-on", "most"),
                Map.entry("millrace.special-tokens-in-content", "maybe"),
                Map.entry("millrace.distill.special-tokens-in-content", "drop"),
                Map.entry("millrace.partial-render", "allow"),
                Map.entry("millrace.sft.partial-render", "Accept"),
                Map.entry("millrace.wrap", "sometimes"),
                Map.entry("millrace.pretrain.wrap", "both"),
                Map.entry("millrace.pretrain-overflow", "wrap"),
                Map.entry("millrace.pretrain.pretrain-overflow", "drop"),
                Map.entry("millrace.packing", "true"),
                Map.entry("millrace.sft.packing", "oof"),
                Map.entry("millrace.pack-buffer", "0"),
                Map.entry("millrace.distill.pack-buffer", "many"));
        for (Map.Entry<String, String> e : bad.entrySet()) {
            assertThatThrownBy(() -> config(Map.of(e.getKey(), e.getValue()))).as(e.getKey())
                    .hasMessageContaining("millrace." + e.getKey().substring("millrace.".length()))
                    .hasMessageContaining("\"" + e.getValue() + "\"");
        }
        assertThatThrownBy(() -> config(Map.of("millrace.sft.packing", "oof")))
                .hasMessageContaining("The config property millrace.sft.packing with the config value \"oof\"")
                .hasMessageContaining("packing must be on or off, got 'oof'");
        assertThatThrownBy(() -> config(Map.of("millrace.stages", "sft,rlhf"))).hasMessageContaining("unknown stage 'rlhf'");
        assertThatThrownBy(() -> config(Map.of("millrace.pack-buffer", "0"))).hasMessageContaining("must be at least 1");
        assertThatThrownBy(() -> config(Map.of("millrace.distill.pack-buffer", "many"))).hasMessageContaining("expected a whole number");
    }

    @Test
    void aMisspeltKeyStopsTheMappingButAnotherServicesKeyAndTheRepoRootDoNot() {
        for (String misspelt : List.of("millrace.sft.packng", "millrace.seq-lne", "millrace.sft.mask-rul", "millrace.ingest.max-record-byte",
                "millrace.dedup.retension-ms", "millrace.ingest", "millrace.stage")) {
            assertThatThrownBy(() -> config(Map.of(misspelt, "1"))).as(misspelt).hasMessageContaining(misspelt);
        }

        Map<String, String> othersKeys = Map.of("millrace.ingest.max-record-bytes", "100", "millrace.ingest.drop-dir", "/in",
                "millrace.seq-len", "64", "millrace.batch-size", "2", "millrace.batch-linger-ms", "10", "millrace.pack-linger-ms", "10",
                "millrace.dedup.retention-ms", "1000", "millrace.dedup.expiry-max-per-run", "5", "millrace.repo.root", "/repo",
                "quarkus.http.port", "8083");
        assertThat(config(othersKeys).stages()).containsExactly(Stage.SFT);
        assertThatThrownBy(() -> MappedConfig.everyKeyMapped(TestPipelineConfig.class, Map.of("millrace.service", "tokenize",
                "millrace.seq-len", "64"))).as("the stricter check").hasMessageContaining("millrace.seq-len");
    }

    @Test
    void theCommonSettingsAreTheKeysTheContractSaysEveryStreamsServiceReads() {
        // tokenize reads only the common settings, so its keys are exactly what PipelineConfig maps.
        assertThat(MappedConfig.mappedKeys(TestPipelineConfig.class)).isEqualTo(SettingNames.readBy(PipelineService.TOKENIZE));
    }

    @Test
    void theIdsAreTheLowerCaseNames() {
        for (Packing p : Packing.values()) {
            assertThat(Packing.fromId(p.id())).isEqualTo(p);
        }
        for (PretrainOverflow o : PretrainOverflow.values()) {
            assertThat(PretrainOverflow.fromId(o.id())).isEqualTo(o);
        }
        assertThat(List.of(Packing.ON.id(), PretrainOverflow.SPLIT.id())).containsExactly("on", "split");
    }
}
