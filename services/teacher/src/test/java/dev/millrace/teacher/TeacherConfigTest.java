package dev.millrace.teacher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.SettingNames;
import dev.millrace.streams.testing.EveryServiceSettings;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link TeacherConfig} mapped by plain SmallRye, as Quarkus maps it when the service starts: over the service's own
 * application.properties, unknown keys refused but for the ones its registered {@link TeacherOtherServicesSettings}
 * lets through.
 */
class TeacherConfigTest {
    @TempDir
    static Path tmp;
    static Path checkpoint;

    @BeforeAll
    static void aCheckpointDirectory() throws IOException {
        checkpoint = Files.createDirectories(tmp.resolve("ckpt/step-00000100"));
        Files.writeString(checkpoint.resolve("model.safetensors"), "");
        Files.writeString(checkpoint.resolve("config.json"), "{}");
    }

    private static SmallRyeConfigBuilder builder(Map<String, String> values) {
        try {
            return new SmallRyeConfigBuilder().addDefaultInterceptors()
                    .withSources(new PropertiesConfigSource(TeacherConfigTest.class.getResource("/application.properties"), 250),
                            new PropertiesConfigSource(values, "test", 500))
                    .withValidateUnknown(true)
                    .withMapping(TeacherConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SmallRyeConfigBuilderCustomizer registeredOtherServicesSettings() {
        List<SmallRyeConfigBuilderCustomizer> registered = ServiceLoader.load(SmallRyeConfigBuilderCustomizer.class).stream()
                .map(ServiceLoader.Provider::get).filter(TeacherOtherServicesSettings.class::isInstance).toList();
        assertThat(registered).as("META-INF/services").hasSize(1);
        return registered.get(0);
    }

    static TeacherConfig mapped(Map<String, String> values) {
        Map<String, String> all = new HashMap<>(Map.of("millrace.teacher.checkpoint", checkpoint.toString()));
        all.putAll(values);
        return builder(all).withCustomizers(registeredOtherServicesSettings()).build().getConfigMapping(TeacherConfig.class);
    }

    @Test
    void theDefaults() {
        TeacherConfig config = mapped(Map.of());
        TeacherConfig.Teacher t = config.teacher();
        assertThat(config.topicPrefix()).isEqualTo("millrace");
        assertThat(config.tokenizer()).isEmpty();
        assertThat(Files.isRegularFile(config.tokenizerFolder().resolve("tokenizer.json"))).as("the bundled tokenizer").isTrue();
        assertThat(t.checkpoint()).isEqualTo(checkpoint);
        assertThat(t.maxNewTokens()).isEqualTo(256);
        assertThat(t.temperature()).isZero();
        assertThat(t.topP()).isEqualTo(0.85);
        assertThat(t.onMaxNewTokens()).isEqualTo(OnMaxNewTokens.DROP);
        assertThat(t.maxPromptTokens()).isEqualTo(2048);
        assertThat(t.commitEveryPrompts()).isEqualTo(16);
        assertThat(t.commitInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(t.instanceId()).isEqualTo("millrace-teacher-0");
        assertThat(t.stuckAfter()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void everyKeyIsReadAndTyped() {
        Map<String, String> values = new HashMap<>(EveryServiceSettings.ofTeacher());
        values.put("millrace.teacher.checkpoint", tmp.resolve("ckpt/../ckpt/step-00000100").toString());
        TeacherConfig config = mapped(values);
        TeacherConfig.Teacher t = config.teacher();
        assertThat(config.topicPrefix()).isEqualTo("acme");
        assertThat(config.tokenizerFolder()).isEqualTo(Path.of("/models/tok"));
        assertThat(t.checkpoint()).isEqualTo(checkpoint);
        assertThat(t.maxNewTokens()).isEqualTo(64);
        assertThat(t.temperature()).isEqualTo(0.7);
        assertThat(t.topP()).isEqualTo(0.9);
        assertThat(t.onMaxNewTokens()).isEqualTo(OnMaxNewTokens.CLOSE);
        assertThat(t.maxPromptTokens()).isEqualTo(1024);
        assertThat(t.commitEveryPrompts()).isEqualTo(8);
        assertThat(t.commitInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(t.instanceId()).isEqualTo("teacher-3");
        assertThat(t.stuckAfter()).isEqualTo(Duration.ofSeconds(90));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "millrace.teacher.max-new-tokens | 0 | from 1 to 2147483647",
            "millrace.teacher.max-new-tokens | many | from 1 to 2147483647",
            "millrace.teacher.temperature | -0.5 | must be 0 (greedy) or a number above 0",
            "millrace.teacher.temperature | hot | must be a number",
            "millrace.teacher.top-p | 0 | above 0 and at most 1",
            "millrace.teacher.top-p | 1.01 | above 0 and at most 1",
            "millrace.teacher.on-max-new-tokens | truncate | must be drop or close, got 'truncate'",
            "millrace.teacher.max-prompt-tokens | -1 | from 1 to 2147483647",
            "millrace.teacher.commit-every-prompts | 0 | from 1 to 2147483647",
            "millrace.teacher.commit-interval | 0 | longer than 0",
            "millrace.teacher.commit-interval | soon | a duration such as 500ms",
            "millrace.teacher.instance-id | teacher 1 | letters, digits",
            "millrace.teacher.stuck-after | 0 | longer than 0",
    })
    void aBadValueStopsTheMappingNamingTheKeyAndTheValue(String key, String value, String rule) {
        assertThatThrownBy(() -> mapped(Map.of(key, value))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property " + key + " with the config value \"" + value + "\"")
                .hasMessageContaining(rule);
    }

    @Test
    void theCheckpointMustBeOneCheckpointDirectory() throws IOException {
        assertThatThrownBy(() -> builder(Map.of()).withCustomizers(registeredOtherServicesSettings()).build().getConfigMapping(TeacherConfig.class))
                .isInstanceOf(ConfigValidationException.class).hasMessageContaining("millrace.teacher.checkpoint");
        Path parent = tmp.resolve("ckpt");
        assertThatThrownBy(() -> mapped(Map.of("millrace.teacher.checkpoint", parent.toString()))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property millrace.teacher.checkpoint with the config value \"" + parent + "\"")
                .hasMessageContaining("is not a checkpoint");
        Path missing = tmp.resolve("nowhere");
        assertThatThrownBy(() -> mapped(Map.of("millrace.teacher.checkpoint", missing.toString()))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("is not a directory");
    }

    @Test
    void itReadsTheKeysTheContractSaysItReads() {
        Set<String> mappedKeys = new TreeSet<>(ConfigMappings.getProperties(new ConfigMappings.ConfigClass(TeacherConfig.class, "millrace")).keySet());
        assertThat(mappedKeys).isEqualTo(SettingNames.readByTeacher());
        assertThat(EveryServiceSettings.ofTeacher().keySet()).isEqualTo(SettingNames.readByTeacher());
    }

    @ParameterizedTest
    @ValueSource(strings = {"millrace.teacher.max-tokens", "millrace.teacher.top_p", "millrace.teacher.checkpoint-dir", "millrace.teacher",
            "millrace.teachers.checkpoint", "millrace.seq-lne", "millrace.trainer.max-step"})
    void aMisspeltKeyStopsTheService(String misspelt) {
        assertThatThrownBy(() -> mapped(Map.of(misspelt, "10"))).isInstanceOf(ConfigValidationException.class).hasMessageContaining(misspelt);
    }

    @Test
    void everyKeyTheOtherServicesReadAndTheRepoRootPass() {
        Map<String, String> othersKeys = EveryServiceSettings.ofServicesOtherThanTeacher();
        assertThat(othersKeys).containsKeys("millrace.stages", "millrace.seq-len", "millrace.trainer.stage", "millrace.ingest.drop-dir")
                .doesNotContainKeys("millrace.tokenizer", "millrace.topic-prefix");
        Map<String, String> one = new HashMap<>(othersKeys);
        one.putAll(EveryServiceSettings.ofTeacher());
        one.put("millrace.teacher.checkpoint", checkpoint.toString());
        one.put("millrace.repo.root", "/repo");
        TeacherConfig config = mapped(one);
        assertThat(config.teacher().maxNewTokens()).isEqualTo(64);
        assertThat(config.topicPrefix()).isEqualTo("acme");
    }

    @Test
    void withoutItsOtherServicesSettingsTheOtherServicesKeysWouldStopIt() {
        assertThatThrownBy(() -> builder(Map.of("millrace.teacher.checkpoint", checkpoint.toString(), "millrace.stages", "sft")).build()
                .getConfigMapping(TeacherConfig.class)).isInstanceOf(ConfigValidationException.class).hasMessageContaining("millrace.stages");
    }
}
