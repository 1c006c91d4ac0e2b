package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.kafkalocal.LocalKafka;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The startup check of batch sizes against the producer's and the batch topics' limits, over a real broker. */
class BatchSizeCheckTest {
    private static final Topics TOPICS = new Topics("limits");
    private static LocalKafka kafka;
    private static Path dir;
    private static TokenizerFolder folder;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("lossmask-limits");
        kafka = LocalKafka.start(dir.resolve("kafka"));
        LocalKafka.createTopics(kafka.bootstrapServers(), 1, Map.of("max.message.bytes", "1048588"), TOPICS.batches(Stage.SFT));
        LocalKafka.createTopics(kafka.bootstrapServers(), 1, Map.of("max.message.bytes", "20000000"), TOPICS.batches(Stage.DPO));
        folder = TokenizerFolder.bundled();
    }

    @AfterAll
    static void stop() throws Exception {
        folder.close();
        kafka.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static BatchSizeLimits.Largest largest(Stage stage, int t, int b, boolean packed) {
        return BatchSizeLimits.largest(stage, t, b, packed, 512, folder.vocabSize(), folder.fingerprint(), TOPICS);
    }

    @Test
    void aBatchOverTheTopicsLimitOrTheProducersStopsTheServiceNamingBTAndBothLimits() throws Exception {
        Map<String, Long> limits;
        try (Admin admin = kafka.admin()) {
            limits = BatchSizeCheck.topicLimits(admin, TOPICS, List.of(Stage.SFT, Stage.DPO));
        }
        assertThat(limits).containsEntry(TOPICS.batches(Stage.SFT), 1048588L).containsEntry(TOPICS.batches(Stage.DPO), 20000000L);

        BatchSizeLimits.Largest sft = largest(Stage.SFT, 8192, 64, false);
        assertThat(sft.recordBytes()).isGreaterThan(1048588L);
        assertThatThrownBy(() -> BatchSizeCheck.throwIfTooLarge(Map.of(Stage.SFT, sft), 50_000_000, TOPICS, limits))
                .hasMessageContaining("sft batch (B=64, T=8192)")
                .hasMessageContaining("max.request.size is 50,000,000 bytes")
                .hasMessageContaining("topic limits.sft.batches has max.message.bytes=1,048,588")
                .hasMessageContaining("raise the topic's max.message.bytes to at least " + sft.recordBytes());

        // DPO: both sides count; the topic allows it but the producer's default does not.
        BatchSizeLimits.Largest dpo = largest(Stage.DPO, 4096, 64, false);
        assertThat(dpo.recordBytes()).isBetween(2L * largest(Stage.SFT, 4096, 64, false).recordBytes() - 1000, 20_000_000L);
        assertThatThrownBy(() -> BatchSizeCheck.throwIfTooLarge(Map.of(Stage.DPO, dpo), 1048576, TOPICS, limits))
                .hasMessageContaining("dpo batch (B=64, T=4096, chosen and rejected rows)")
                .hasMessageContaining("raise max.request.size to at least " + dpo.recordBytes());

        // What fits both passes.
        BatchSizeCheck.throwIfTooLarge(Map.of(Stage.SFT, largest(Stage.SFT, 512, 16, true), Stage.DPO, dpo), 20_000_000, TOPICS, limits);
    }

    @Test
    void aBatchTopicThatDoesNotExistYetIsNotReadYet() throws Exception {
        try (Admin admin = kafka.admin()) {
            assertThat(BatchSizeCheck.topicLimits(admin, TOPICS, List.of(Stage.SFT, Stage.PRETRAIN))).isNull();
        }
    }

    @Test
    void theProducersLimitIsTheStreamsClientsEffectiveOne() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "x");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        assertThat(BatchSizeCheck.maxRequestSize(new StreamsConfig(props))).isEqualTo(1048576);
        props.put(BatchSizeLimits.MAX_REQUEST_SIZE_PROPERTY.substring("kafka-streams.".length()), "8000000");
        assertThat(BatchSizeCheck.maxRequestSize(new StreamsConfig(props))).isEqualTo(8000000);
    }
}
