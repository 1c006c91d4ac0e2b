package dev.millrace.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.millrace.contract.SettingNames;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.testing.EveryServiceSettings;
import dev.millrace.training.run.TrainingSettings;
import dev.millrace.training.dpo.DpoLoss;
import dev.millrace.training.dpo.DpoTrainer;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.DistillLoss;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.ConfigValidationException;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TrainerConfig} mapped by plain SmallRye, as Quarkus maps it when the service starts: over the
 * service's own application.properties (no profile), unknown keys refused but for the ones its registered
 * {@link TrainerOtherServicesSettings} lets through.
 */
class TrainerConfigTest {
    @TempDir
    static Path tmp;

    private static SmallRyeConfigBuilder builder(Map<String, String> values) {
        try {
            return new SmallRyeConfigBuilder().addDefaultInterceptors() // expressions and profiles, as in Quarkus
                    .withSources(new PropertiesConfigSource(TrainerConfigTest.class.getResource("/application.properties"), 250),
                            new PropertiesConfigSource(values, "test", 500))
                    .withValidateUnknown(true) // SmallRye's default, and Quarkus's
                    .withMapping(TrainerConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Found where Quarkus finds it. */
    private static SmallRyeConfigBuilderCustomizer registeredOtherServicesSettings() {
        List<SmallRyeConfigBuilderCustomizer> registered = ServiceLoader.load(SmallRyeConfigBuilderCustomizer.class).stream()
                .map(ServiceLoader.Provider::get).filter(TrainerOtherServicesSettings.class::isInstance).toList();
        assertThat(registered).as("META-INF/services").hasSize(1);
        return registered.get(0);
    }

    /** The two required keys. */
    private static Map<String, String> required() {
        return Map.of("millrace.trainer.stage", "sft", "millrace.trainer.checkpoint-dir", tmp.resolve("ckpt").toString());
    }

    /** The mapping of the required keys, these values and the defaults, as the service gets it. */
    static TrainerConfig mapped(Map<String, String> values) {
        Map<String, String> all = new HashMap<>(required());
        all.putAll(values);
        return builder(all).withCustomizers(registeredOtherServicesSettings()).build().getConfigMapping(TrainerConfig.class);
    }

    @Test
    void theDefaultsAreTheContractsAndTheSharedKeysDefaultsAreThePipelines() {
        TrainerConfig config = mapped(Map.of());
        TrainerConfig.Trainer t = config.trainer();
        assertThat(config.topicPrefix()).isEqualTo("millrace");
        assertThat(config.tokenizer()).isEmpty();
        assertThat(config.seqLen()).isEqualTo(512).isEqualTo(Integer.parseInt(SettingNames.DEFAULT_SEQ_LEN));
        assertThat(t.stage()).isEqualTo(Stage.SFT);
        assertThat(t.checkpointDir()).isEqualTo(tmp.resolve("ckpt"));
        assertThat(t.keepCheckpoints()).isEqualTo(3);
        assertThat(t.init()).isEmpty();
        assertThat(t.model()).isEqualTo("minimind-26m");
        assertThat(t.seed()).isZero();
        assertThat(t.lr()).isEqualTo(5e-4);
        assertThat(t.warmupSteps()).isZero();
        assertThat(t.weightDecay()).isEqualTo(0.01);
        assertThat(t.beta1()).isEqualTo(0.9);
        assertThat(t.beta2()).isEqualTo(0.999);
        assertThat(t.clipNorm()).isEqualTo(1.0);
        assertThat(t.accumulation()).isEqualTo(1);
        assertThat(t.checkpointEverySteps()).isEqualTo(100);
        assertThat(t.checkpointInterval()).isEqualTo(Duration.ofMinutes(10));
        assertThat(t.maxSteps()).isZero();
        assertThat(t.untilIdle()).isEmpty();
        assertThat(t.passes()).isZero();
        assertThat(t.evalFile()).isEmpty();
        assertThat(t.evalEverySteps()).isEqualTo(100);
        assertThat(t.progressEverySteps()).isEqualTo(10);
        assertThat(t.stuckAfter()).isEqualTo(Duration.ofMinutes(5));
        assertThat(t.dpoBeta()).isEqualTo(0.1);
        assertThat(t.dpoLogProb()).isEqualTo(DpoLoss.LogProb.SUM);
        assertThat(t.distillTeacher()).isEmpty();
        assertThat(t.distillAlpha()).isEqualTo(DistillLoss.DEFAULT_ALPHA).isEqualTo(0.5);
        assertThat(t.distillTemperature()).isEqualTo(DistillLoss.DEFAULT_TEMPERATURE).isEqualTo(1.5);

        TrainingSettings s = config.trainingSettings("host:9092", Map.of("security.protocol", "SSL"));
        assertThat(s.bootstrapServers()).isEqualTo("host:9092");
        assertThat(s.kafkaConfig()).containsEntry("security.protocol", "SSL");
        assertThat(s.batchTopic()).isEqualTo("millrace.sft.batches");
        assertThat(s.bounded()).isFalse();
        assertThat(s.trainer().schedule().at(0)).isEqualTo(5e-4); // continuous: constant, no warm-up
        assertThat(s.trainer().schedule().at(100_000)).isEqualTo(5e-4);
        assertThat(s.trainer().adamw()).isEqualTo(AdamW.Settings.defaults());
        assertThat(s.checkpointInterval()).isEqualTo(Duration.ofMinutes(10));
        assertThat(s.untilIdle()).isNull();
        assertThat(s.init()).isNull();
        assertThat(s.evalFile()).isNull();
        assertThat(s.dpo()).isEqualTo(DpoTrainer.Settings.defaults());
        assertThat(s.distillTeacher()).isNull();
        assertThat(s.distill()).isEqualTo(DistillLoss.Settings.defaults());
        assertThat(Files.isRegularFile(s.tokenizerFolder().resolve("tokenizer.json"))).as("the bundled tokenizer, copied out").isTrue();
    }

    @Test
    void everyKeyIsReadAndTyped() throws IOException {
        Path eval = Files.writeString(tmp.resolve("eval.jsonl"), "{\"text\": \"x\"}\n");
        Map<String, String> values = new HashMap<>(EveryServiceSettings.ofTrainer());
        values.putAll(Map.of("millrace.trainer.checkpoint-dir", tmp.resolve("a/../ckpt2").toString(), "millrace.trainer.eval-file", eval.toString(),
                "millrace.trainer.init", "relative/init", "millrace.trainer.max-steps", "1000", "millrace.trainer.warmup-steps", "0"));
        TrainerConfig config = mapped(values);
        TrainerConfig.Trainer t = config.trainer();
        assertThat(config.topicPrefix()).isEqualTo("acme");
        assertThat(config.tokenizer()).contains("/models/tok");
        assertThat(config.tokenizerFolder()).isEqualTo(Path.of("/models/tok"));
        assertThat(config.seqLen()).isEqualTo(128);
        assertThat(t.stage()).isEqualTo(Stage.DISTILL);
        assertThat(t.checkpointDir()).isEqualTo(tmp.resolve("ckpt2")); // absolute, normalised; it need not exist yet
        assertThat(t.keepCheckpoints()).isEqualTo(2);
        assertThat(t.init()).contains(Path.of("relative/init").toAbsolutePath());
        assertThat(t.model()).isEqualTo("tiny");
        assertThat(t.seed()).isEqualTo(3);
        assertThat(t.lr()).isEqualTo(1e-3);
        assertThat(t.weightDecay()).isEqualTo(0.1);
        assertThat(t.beta1()).isEqualTo(0.8);
        assertThat(t.beta2()).isEqualTo(0.95);
        assertThat(t.clipNorm()).isEqualTo(0.5);
        assertThat(t.accumulation()).isEqualTo(2);
        assertThat(t.checkpointEverySteps()).isEqualTo(50);
        assertThat(t.checkpointInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(t.maxSteps()).isEqualTo(1000);
        assertThat(t.untilIdle()).contains(Duration.ofSeconds(30));
        assertThat(t.passes()).isEqualTo(1);
        assertThat(t.evalFile()).contains(eval);
        assertThat(t.evalEverySteps()).isEqualTo(20);
        assertThat(t.progressEverySteps()).isEqualTo(5);
        assertThat(t.stuckAfter()).isEqualTo(Duration.ofMinutes(2));
        assertThat(t.dpoBeta()).isEqualTo(0.25);
        assertThat(t.dpoLogProb()).isEqualTo(DpoLoss.LogProb.MEAN);
        assertThat(t.distillTeacher()).contains(Path.of("/teacher"));
        assertThat(t.distillAlpha()).isEqualTo(0.25);
        assertThat(t.distillTemperature()).isEqualTo(2.0);

        TrainingSettings s = config.trainingSettings("h:1", Map.of());
        assertThat(s.stage()).isEqualTo(Stage.DISTILL);
        assertThat(s.batchTopic()).isEqualTo("acme.distill.batches");
        assertThat(s.distillTeacher()).isEqualTo(Path.of("/teacher"));
        assertThat(s.distill()).isEqualTo(new DistillLoss.Settings(0.25, 2.0));
        assertThat(s.seqLen()).isEqualTo(128);
        assertThat(s.checkpointDir()).isEqualTo(tmp.resolve("ckpt2"));
        assertThat(s.keepCheckpoints()).isEqualTo(2);
        assertThat(s.init()).isEqualTo(Path.of("relative/init").toAbsolutePath());
        assertThat(s.modelPreset()).isEqualTo("tiny");
        assertThat(s.seed()).isEqualTo(3);
        assertThat(s.trainer().accumulation()).isEqualTo(2);
        assertThat(s.trainer().clipNorm()).isEqualTo(0.5);
        assertThat(s.trainer().adamw()).isEqualTo(new AdamW.Settings(0.8, 0.95, 1e-8, 0.1));
        assertThat(s.dpo()).isEqualTo(new DpoTrainer.Settings(0.25, DpoLoss.LogProb.MEAN));
        // max-steps known: MiniMind's cosine over it, from 1.1·lr down to lr/10.
        assertThat(s.trainer().schedule().at(0)).isCloseTo(1.1e-3, offset(1e-12));
        assertThat(s.trainer().schedule().at(1000)).isCloseTo(1e-4, offset(1e-12));
        assertThat(s.checkpointEverySteps()).isEqualTo(50);
        assertThat(s.checkpointInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.maxSteps()).isEqualTo(1000);
        assertThat(s.untilIdle()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.passes()).isEqualTo(1);
        assertThat(s.evalFile()).isEqualTo(eval);
        assertThat(s.evalEverySteps()).isEqualTo(20);
    }

    @Test
    void continuousTrainingWarmsUpAndAWarmUpWithAStepLimitIsRefused() {
        TrainingSettings s = mapped(Map.of("millrace.trainer.warmup-steps", "4", "millrace.trainer.lr", "8e-4")).trainingSettings("h:1", Map.of());
        assertThat(s.trainer().schedule().at(0)).isEqualTo(2e-4);
        assertThat(s.trainer().schedule().at(3)).isEqualTo(8e-4);
        assertThat(s.trainer().schedule().at(50)).isEqualTo(8e-4);

        TrainerConfig both = mapped(Map.of("millrace.trainer.warmup-steps", "4", "millrace.trainer.max-steps", "100"));
        assertThatThrownBy(() -> both.trainingSettings("h:1", Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("millrace.trainer.warmup-steps=4 applies to continuous training")
                .hasMessageContaining("millrace.trainer.max-steps=100");
    }

    @Test
    void durationsAreWrittenAsQuarkusWritesThem() {
        assertThat(mapped(Map.of("millrace.trainer.until-idle", "500ms")).trainer().untilIdle()).contains(Duration.ofMillis(500));
        assertThat(mapped(Map.of("millrace.trainer.until-idle", "45")).trainer().untilIdle()).contains(Duration.ofSeconds(45));
        assertThat(mapped(Map.of("millrace.trainer.until-idle", "2h")).trainer().untilIdle()).contains(Duration.ofHours(2));
        assertThat(mapped(Map.of("millrace.trainer.until-idle", "1d")).trainer().untilIdle()).contains(Duration.ofDays(1));
        assertThat(mapped(Map.of("millrace.trainer.until-idle", "PT1M30S")).trainer().untilIdle()).contains(Duration.ofSeconds(90));
        assertThat(mapped(Map.of("millrace.trainer.checkpoint-interval", "0")).trainer().checkpointInterval()).isZero();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "millrace.trainer.distill-alpha | 1.5 | from 0 to 1",
            "millrace.trainer.distill-alpha | -0.1 | from 0 to 1",
            "millrace.trainer.distill-temperature | 0 | above 0",
            "millrace.trainer.dpo-beta | 0 | above 0",
            "millrace.trainer.dpo-logprob | average | DPO log-prob must be sum or mean, got 'average'",
            "millrace.trainer.stage | finetune | unknown stage 'finetune'",
            "millrace.trainer.model | minimind-104m | unknown model preset 'minimind-104m' (tiny, minimind-26m)",
            "millrace.seq-len | 1 | from 2 to 2147483647",
            "millrace.trainer.keep-checkpoints | 0 | from 1 to 2147483647",
            "millrace.trainer.lr | 0 | above 0",
            "millrace.trainer.lr | fast | must be a number",
            "millrace.trainer.warmup-steps | -1 | 0 or more",
            "millrace.trainer.weight-decay | -0.1 | 0 or more",
            "millrace.trainer.beta1 | 1 | from 0 up to (not including) 1",
            "millrace.trainer.beta2 | 1.5 | from 0 up to (not including) 1",
            "millrace.trainer.clip-norm | 0 | above 0",
            "millrace.trainer.accumulation | 0 | from 1 to 2147483647",
            "millrace.trainer.checkpoint-every-steps | -5 | 0 or more",
            "millrace.trainer.checkpoint-interval | 10 minutes | a duration such as 500ms",
            "millrace.trainer.checkpoint-interval | PT-1S | cannot be negative",
            "millrace.trainer.max-steps | 1.5 | a whole number",
            "millrace.trainer.until-idle | soon | a duration such as 500ms",
            "millrace.trainer.passes | -1 | from 0 to 2147483647",
            "millrace.trainer.eval-every-steps | 0 | 1 or more",
            "millrace.trainer.progress-every-steps | -1 | 0 or more",
            "millrace.trainer.stuck-after | 0 | longer than 0",
            "millrace.trainer.seed | x | x",
    })
    void aBadValueStopsTheMappingNamingTheKeyAndTheValue(String key, String value, String rule) {
        assertThatThrownBy(() -> mapped(Map.of(key, value))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property " + key + " with the config value \"" + value + "\"")
                .hasMessageContaining(rule);
    }

    @Test
    void aCheckpointDirThatIsAFileAndAnEvalFileThatIsMissingStopTheMapping() throws IOException {
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "");
        assertThatThrownBy(() -> mapped(Map.of("millrace.trainer.checkpoint-dir", file.toString()))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property millrace.trainer.checkpoint-dir with the config value \"" + file + "\"")
                .hasMessageContaining("is not a directory");
        Path missing = tmp.resolve("missing.jsonl");
        assertThatThrownBy(() -> mapped(Map.of("millrace.trainer.eval-file", missing.toString()))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property millrace.trainer.eval-file with the config value \"" + missing + "\"")
                .hasMessageContaining("is not a file");
    }

    @Test
    void aBlankValueIsNotSet() {
        TrainerConfig config = mapped(Map.of("millrace.trainer.init", " ", "millrace.trainer.until-idle", "", "millrace.trainer.eval-file", "",
                "millrace.tokenizer", ""));
        assertThat(config.trainer().init()).isEmpty();
        assertThat(config.trainer().untilIdle()).isEmpty();
        assertThat(config.trainer().evalFile()).isEmpty();
        assertThat(config.tokenizer()).isEmpty();
        // A key that must have a value, given none: refused, not its default.
        assertThatThrownBy(() -> mapped(Map.of("millrace.trainer.stage", " "))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("millrace.trainer.stage");
        assertThatThrownBy(() -> mapped(Map.of("millrace.trainer.lr", ""))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("millrace.trainer.lr is defined as the empty String");
    }

    @Test
    void theStageAndTheCheckpointDirAreRequired() {
        assertThatThrownBy(() -> builder(Map.of("millrace.trainer.stage", "sft")).withCustomizers(registeredOtherServicesSettings()).build()
                .getConfigMapping(TrainerConfig.class)).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("millrace.trainer.checkpoint-dir");
        assertThatThrownBy(() -> builder(Map.of("millrace.trainer.checkpoint-dir", "/ckpt")).withCustomizers(registeredOtherServicesSettings()).build()
                .getConfigMapping(TrainerConfig.class)).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("millrace.trainer.stage");
    }

    @Test
    void itReadsTheKeysTheContractSaysItReads() {
        Set<String> mapped = new TreeSet<>(ConfigMappings.getProperties(new ConfigMappings.ConfigClass(TrainerConfig.class, "millrace")).keySet());
        assertThat(mapped).isEqualTo(SettingNames.readByTrainer());
        assertThat(EveryServiceSettings.ofTrainer().keySet()).isEqualTo(SettingNames.readByTrainer());
    }

    @ParameterizedTest
    @ValueSource(strings = {"millrace.trainer.max-step", "millrace.trainer.checkpoint-every", "millrace.trainer.learning-rate",
            "millrace.trainer.stages", "millrace.trainer", "millrace.trainers.stage", "millrace.seq-lne", "millrace.ingest.max-record-byte"})
    void aMisspeltKeyStopsTheService(String misspelt) {
        assertThatThrownBy(() -> mapped(Map.of(misspelt, "10"))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining(misspelt);
    }

    @Test
    void everyKeyAPipelineServiceReadsAndTheRepoRootPass() {
        Map<String, String> othersKeys = EveryServiceSettings.ofServicesOtherThanTrainer();
        assertThat(othersKeys).containsKeys("millrace.stages", "millrace.service", "millrace.batch-size", "millrace.sft.mask-rule",
                "millrace.ingest.drop-dir", "millrace.dedup.retention-ms").doesNotContainKeys("millrace.seq-len", "millrace.tokenizer");
        assertThat(mapped(othersKeys).trainer().stage()).isEqualTo(Stage.SFT);
        assertThat(mapped(Map.of("millrace.repo.root", "/repo")).trainer().stage()).isEqualTo(Stage.SFT);

        Map<String, String> oneConfigForEveryService = new HashMap<>(othersKeys);
        oneConfigForEveryService.putAll(EveryServiceSettings.ofTrainer());
        oneConfigForEveryService.put("millrace.repo.root", "/repo");
        oneConfigForEveryService.remove("millrace.trainer.eval-file"); // must exist
        TrainerConfig config = mapped(oneConfigForEveryService);
        assertThat(config.trainer().stage()).isEqualTo(Stage.DISTILL);
        assertThat(config.seqLen()).isEqualTo(128);
        assertThat(config.topicPrefix()).isEqualTo("acme");
    }

    @Test
    void withoutItsOtherServicesSettingsThePipelineServicesKeysWouldStopIt() {
        Map<String, String> values = new HashMap<>(required());
        values.put("millrace.stages", "sft");
        assertThatThrownBy(() -> builder(values).build().getConfigMapping(TrainerConfig.class))
                .isInstanceOf(ConfigValidationException.class).hasMessageContaining("millrace.stages");
    }

    @Test
    void dpoAndDistillAreTrainedAndATeacherTeachesOnlySftAndDistill() {
        assertThat(mapped(Map.of("millrace.trainer.stage", "dpo")).trainingSettings("h:1", Map.of()).batchTopic()).isEqualTo("millrace.dpo.batches");
        assertThat(mapped(Map.of("millrace.trainer.stage", "distill")).trainingSettings("h:1", Map.of()).batchTopic())
                .isEqualTo("millrace.distill.batches");
        assertThat(mapped(Map.of("millrace.trainer.distill-teacher", "teacher")).trainingSettings("h:1", Map.of()).distillTeacher())
                .isEqualTo(Path.of("teacher").toAbsolutePath()); // sft
        for (String stage : List.of("pretrain", "dpo")) {
            TrainerConfig config = mapped(Map.of("millrace.trainer.stage", stage, "millrace.trainer.distill-teacher", "/teacher"));
            assertThatThrownBy(() -> config.trainingSettings("h:1", Map.of())).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("millrace.trainer.distill-teacher")
                    .hasMessageContaining("this run trains " + stage);
        }
    }
}
