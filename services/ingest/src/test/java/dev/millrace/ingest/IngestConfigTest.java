package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import dev.millrace.core.record.Stage;
import dev.millrace.streams.testing.EveryServiceSettings;
import io.smallrye.config.ConfigMappings;
import io.smallrye.config.ConfigValidationException;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link IngestConfig} mapped by plain SmallRye, as Quarkus maps it when the service starts: over the
 * service's own application.properties (no profile), unknown keys refused but for the ones its
 * registered {@link IngestOtherServicesSettings} lets through.
 */
class IngestConfigTest {
    private static SmallRyeConfig config(Map<String, String> values) {
        return builder(values).withCustomizers(registeredOtherServicesSettings()).build();
    }

    private static SmallRyeConfigBuilder builder(Map<String, String> values) {
        try {
            return new SmallRyeConfigBuilder().addDefaultInterceptors() // expressions and profiles, as in Quarkus
                    .withSources(new PropertiesConfigSource(IngestConfigTest.class.getResource("/application.properties"), 250),
                            new PropertiesConfigSource(values, "test", 500))
                    .withValidateUnknown(true) // SmallRye's default, and Quarkus's
                    .withMapping(IngestConfig.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Found where Quarkus finds it. */
    private static SmallRyeConfigBuilderCustomizer registeredOtherServicesSettings() {
        List<SmallRyeConfigBuilderCustomizer> registered = ServiceLoader.load(SmallRyeConfigBuilderCustomizer.class).stream()
                .map(ServiceLoader.Provider::get).filter(IngestOtherServicesSettings.class::isInstance).toList();
        assertThat(registered).as("META-INF/services").hasSize(1);
        return registered.get(0);
    }

    /** The mapping of these values and the defaults, as the service gets it. */
    static IngestConfig mapped(Map<String, String> values) {
        return config(values).getConfigMapping(IngestConfig.class);
    }

    @Test
    void theDefaultsAreTheOnesOfTheSettingsTable() throws IOException {
        IngestConfig config = mapped(Map.of());
        IngestConfig.Ingest ingest = config.ingest();

        assertThat(config.stages()).containsExactly(Stage.SFT);
        assertThat(config.topicPrefix()).isEqualTo("millrace");
        assertThat(ingest.maxRecordBytes()).isEqualTo(1 << 20);
        assertThat(ingest.maxBodyBytes()).isEqualTo(64L << 20);
        assertThat(ingest.dropDir()).isEmpty();
        assertThat(ingest.dropPollMs()).isEqualTo(1000);
        assertThat(ingest.dropChunkLines()).isEqualTo(1000);
        assertThat(ingest.dropChunkBytes()).isEqualTo(4L << 20);
        assertThat(ingest.maxConcurrentRequests()).isEqualTo(4);

        // The table's own words for the same values.
        Map<String, String> rows = settingsTable();
        assertThat(rows.get("millrace.stages")).startsWith("`" + config.stages().get(0).id() + "`");
        assertThat(rows.get("millrace.topic-prefix")).isEqualTo("`" + config.topicPrefix() + "`");
        assertThat(rows.get("millrace.ingest.max-record-bytes")).startsWith("1 MiB (" + ingest.maxRecordBytes() + ")");
        assertThat(rows.get("millrace.ingest.max-body-bytes")).startsWith("64 MiB (" + ingest.maxBodyBytes() + ")");
        assertThat(rows.get("millrace.ingest.max-concurrent-requests")).startsWith(ingest.maxConcurrentRequests() + ":");
        assertThat(rows.get("millrace.ingest.drop-dir")).startsWith("off, " + ingest.dropPollMs() + ", " + ingest.dropChunkLines()
                + ", " + (ingest.dropChunkBytes() >> 20) + " MiB (" + ingest.dropChunkBytes() + ")");
    }

    /**
     * The default column of docs/architecture.md#service-settings by key (a row that names several keys
     * gives each the same cell).
     */
    private static Map<String, String> settingsTable() throws IOException {
        Path doc = Path.of(System.getProperty("millrace.repo.root", "../..")).resolve("docs/architecture.md");
        String text = Files.readString(doc);
        String section = text.substring(text.indexOf("\n## Service settings\n"));
        int end = section.indexOf("\n## ", 1);
        if (end > 0) {
            section = section.substring(0, end);
        }
        Map<String, String> rows = new HashMap<>();
        for (String line : section.lines().filter(l -> l.startsWith("| `")).toList()) {
            String[] cells = line.split("(?<!\\\\)\\|");
            Matcher keys = Pattern.compile("`([^`]+)`").matcher(cells[1]);
            while (keys.find()) {
                rows.put(keys.group(1), cells[2].trim());
            }
        }
        assertThat(rows).as(doc + "#service-settings").isNotEmpty();
        return rows;
    }

    /** Ingest counts the body's bytes itself (IngestResource): the HTTP layer would cut a chunked body off with a bare 413. */
    @Test
    void theHttpLayersOwnBodyLimitIsOffWhateverTheBodyBytesSetting() {
        assertThat(config(Map.of()).getValue("quarkus.http.limits.max-body-size", String.class)).isEqualTo(String.valueOf(Long.MAX_VALUE));
        assertThat(config(Map.of("millrace.ingest.max-body-bytes", "1000")).getValue("quarkus.http.limits.max-body-size", String.class))
                .isEqualTo(String.valueOf(Long.MAX_VALUE));
    }

    @Test
    void valuesAreTyped(@TempDir Path tmp) {
        IngestConfig config = mapped(Map.of("millrace.stages", "distill,pretrain", "millrace.topic-prefix", "p",
                "millrace.ingest.max-record-bytes", " 7 ", "millrace.ingest.drop-dir", tmp.resolve("a/../drop").toString()));

        assertThat(config.stages()).containsExactly(Stage.DISTILL, Stage.PRETRAIN);
        assertThat(config.topicPrefix()).isEqualTo("p");
        assertThat(config.ingest().maxRecordBytes()).isEqualTo(7);
        assertThat(config.ingest().dropDir()).contains(tmp.resolve("drop")); // absolute, normalised; it need not exist yet
        assertThat(mapped(Map.of("millrace.ingest.drop-dir", " ")).ingest().dropDir()).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "millrace.stages | bogus | unknown stage 'bogus'",
            "millrace.stages | sft,Finetune | unknown stage 'Finetune'",
            "millrace.ingest.max-record-bytes | 0 | from 1 to 2147483647",
            "millrace.ingest.max-record-bytes | -1 | from 1 to 2147483647",
            "millrace.ingest.max-record-bytes | 1MiB | a whole number",
            "millrace.ingest.max-record-bytes | 3000000000 | from 1 to 2147483647",
            "millrace.ingest.max-body-bytes | 0 | 1 or more",
            "millrace.ingest.drop-poll-ms | 0 | 1 or more",
            "millrace.ingest.drop-poll-ms | 1.5 | a whole number",
            "millrace.ingest.drop-chunk-lines | 0 | from 1 to 2147483647",
            "millrace.ingest.drop-chunk-bytes | -5 | 1 or more",
            "millrace.ingest.max-concurrent-requests | 0 | from 1 to 2147483647",
    })
    void aBadValueStopsTheMappingNamingTheKeyAndTheValue(String key, String value, String rule) {
        assertThatThrownBy(() -> mapped(Map.of(key, value))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property " + key + " with the config value \"" + value + "\"")
                .hasMessageContaining(rule);
    }

    @Test
    void aDropDirThatIsAFileStopsTheMapping(@TempDir Path tmp) throws IOException {
        Path file = Files.writeString(tmp.resolve("drop"), "");

        assertThatThrownBy(() -> mapped(Map.of("millrace.ingest.drop-dir", file.toString()))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining("property millrace.ingest.drop-dir with the config value \"" + file + "\"")
                .hasMessageContaining("is not a directory");
    }

    @Test
    void itReadsTheKeysTheContractSaysItReads() {
        Set<String> mapped = new TreeSet<>(ConfigMappings.getProperties(new ConfigMappings.ConfigClass(IngestConfig.class, "millrace")).keySet());
        mapped.removeIf(key -> key.endsWith("[*]")); // a list's indexed form

        assertThat(mapped).isEqualTo(SettingNames.readBy(PipelineService.INGEST));
    }

    @ParameterizedTest
    @ValueSource(strings = {"millrace.ingest.max-record-byte", "millrace.ingest.max-recrod-bytes", "millrace.ingest.drop-dri",
            "millrace.ingestion", "millrace.seq-lne", "millrace.sft.mask-rul", "millrace.dedup.retension-ms", "millrace.stage",
            "millrace.trainer.max-step", "millrace.trainer"})
    void aMisspeltKeyStopsTheService(String misspelt) {
        assertThatThrownBy(() -> mapped(Map.of(misspelt, "10"))).isInstanceOf(ConfigValidationException.class)
                .hasMessageContaining(misspelt);
    }

    @Test
    void everyKeyAnotherServiceReadsAndTheRepoRootPass() {
        Map<String, String> othersKeys = EveryServiceSettings.ofServicesOtherThan(PipelineService.INGEST);
        assertThat(othersKeys).containsKeys("millrace.seq-len", "millrace.dedup.retention-ms", "millrace.mask-rule", "millrace.sft.mask-rule",
                "millrace.distill.pack-buffer", "millrace.tokenizer", "millrace.service", "millrace.trainer.stage", "millrace.trainer.max-steps");
        assertThat(mapped(othersKeys).ingest().maxRecordBytes()).isEqualTo(1 << 20);
        assertThat(mapped(Map.of("millrace.repo.root", "/repo")).stages()).containsExactly(Stage.SFT);

        Map<String, String> oneConfigForEveryService = new HashMap<>(othersKeys);
        oneConfigForEveryService.putAll(EveryServiceSettings.of(PipelineService.INGEST));
        oneConfigForEveryService.put("millrace.repo.root", "/repo");
        IngestConfig config = mapped(oneConfigForEveryService);
        assertThat(config.stages()).containsExactly(Stage.PRETRAIN, Stage.SFT);
        assertThat(config.topicPrefix()).isEqualTo("acme");
        assertThat(config.ingest().maxRecordBytes()).isEqualTo(4096);
    }

    @Test
    void withoutItsOtherServicesSettingsTheOtherServicesKeysWouldStopIt() {
        assertThatThrownBy(() -> builder(Map.of("millrace.seq-len", "512")).build().getConfigMapping(IngestConfig.class))
                .isInstanceOf(ConfigValidationException.class).hasMessageContaining("millrace.seq-len");
        assertThat(Optional.ofNullable(builder(Map.of()).build().getRawValue("quarkus.config.mapping.validate-unknown")))
                .as("application.properties leaves the check on").isEmpty();
    }
}
