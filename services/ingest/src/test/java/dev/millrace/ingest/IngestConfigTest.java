package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import io.smallrye.config.ConfigValidationException;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.RelocateConfigSourceInterceptor;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link IngestConfig} mapped by plain SmallRye, as Quarkus maps it when the service starts: over the
 * service's own application.properties (no profile), with Quarkus's name for the unknown-key setting.
 */
class IngestConfigTest {
    private static SmallRyeConfig config(Map<String, String> values) {
        try {
            return new SmallRyeConfigBuilder().addDefaultInterceptors() // expressions and profiles, as in Quarkus
                    .withSources(new PropertiesConfigSource(IngestConfigTest.class.getResource("/application.properties"), 250),
                            new PropertiesConfigSource(values, "test", 500))
                    // Quarkus reads SmallRye's setting under its own name.
                    .withInterceptors(new RelocateConfigSourceInterceptor(Map.of(
                            SmallRyeConfig.SMALLRYE_CONFIG_MAPPING_VALIDATE_UNKNOWN, "quarkus.config.mapping.validate-unknown")))
                    .withMapping(IngestConfig.class)
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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

        // The table's own words for the same values.
        Map<String, String> rows = settingsTable();
        assertThat(rows.get("millrace.stages")).startsWith("`" + config.stages().get(0).id() + "`");
        assertThat(rows.get("millrace.topic-prefix")).isEqualTo("`" + config.topicPrefix() + "`");
        assertThat(rows.get("millrace.ingest.max-record-bytes")).startsWith("1 MiB (" + ingest.maxRecordBytes() + ")");
        assertThat(rows.get("millrace.ingest.max-body-bytes")).startsWith("64 MiB (" + ingest.maxBodyBytes() + ")");
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

    @Test
    void theHttpBodyLimitIsTheBodyBytesSettingOrItsDefault() {
        assertThat(config(Map.of()).getValue("quarkus.http.limits.max-body-size", String.class)).isEqualTo("67108864");
        assertThat(config(Map.of("millrace.ingest.max-body-bytes", "1000")).getValue("quarkus.http.limits.max-body-size", String.class))
                .isEqualTo("1000");
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
    void otherServicesKeysUnderMillraceAreLeftAloneButAnUnknownIngestKeyIsNamed() {
        Map<String, String> shared = Map.of("millrace.seq-len", "512", "millrace.sft.mask-rule", "span",
                "millrace.dedup.retention-ms", "1000", "millrace.ingest.max-recrod-bytes", "10", "millrace.ingestion", "x");
        SmallRyeConfig config = config(shared);

        assertThat(config.getConfigMapping(IngestConfig.class).ingest().maxRecordBytes()).isEqualTo(1 << 20);
        assertThat(IngestConfig.unknownIngestKeys(config.getPropertyNames())).containsExactly("millrace.ingest.max-recrod-bytes");
        assertThat(IngestConfig.unknownIngestKeys(List.of("millrace.ingest.drop-dir", "millrace.ingest.drop-chunk-bytes",
                "millrace.stages"))).isEmpty();
    }

    @Test
    void withoutQuarkusSettingSmallRyeWouldRefuseTheOtherServicesKeys() {
        // Why application.properties turns the check off: SmallRye's default refuses any unmapped millrace.* key.
        assertThatThrownBy(() -> new SmallRyeConfigBuilder().withSources(new PropertiesConfigSource(Map.of("millrace.seq-len", "512"), "test"))
                .withMapping(IngestConfig.class).build())
                .isInstanceOf(ConfigValidationException.class).hasMessageContaining("millrace.seq-len");
        assertThat(Optional.ofNullable(config(Map.of()).getRawValue("quarkus.config.mapping.validate-unknown"))).contains("false");
    }
}
