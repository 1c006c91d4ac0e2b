package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.contract.Topics;
import dev.millrace.core.mask.Row;
import dev.millrace.core.pack.PackedRow;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.testing.MappedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Over a real broker with exactly_once_v2: examples waiting in the pack buffer when the service
 * stops are neither lost nor repeated. The first run commits 5 examples into a buffer of 8 (no
 * batch can come out), stops, and its local state is deleted, so the second run can only get
 * them back from the store's changelog; it then takes 11 more. The rows must be exactly what
 * {@link Packer} makes of all 16 examples in order, each example in one row.
 */
class PackingRestartTest {
    private static final int T = 64;
    private static final int BUFFER = 8;
    private static final Stage STAGE = Stage.SFT;
    private static LocalKafka kafka;
    private static Path dir;

    @BeforeAll
    static void startBroker() throws Exception {
        dir = Files.createTempDirectory("lossmask-restart");
        kafka = LocalKafka.start(dir.resolve("kafka"));
        kafka.createTopics(1, Topics.DEFAULT.tokenized(STAGE), Topics.DEFAULT.batches(STAGE), Topics.DEFAULT.dlq());
    }

    @AfterAll
    static void stopBroker() throws Exception {
        kafka.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static String chat(int i) {
        return "<|im_start|>user\nQuestion number " + i + "?<|im_end|>\n<|im_start|>assistant\n"
                + "Answer " + "and more ".repeat(i % 5) + i + ".<|im_end|>\n";
    }

    @Test
    void bufferedExamplesSurviveARestartFromTheChangelog() throws Exception {
        String appId = "lossmask-restart-" + UUID.randomUUID();
        TokenizerFolder folder = TokenizerFolder.bundled();
        List<TokenizedRecord> records = new ArrayList<>();
        for (int i = 0; i < 2 * BUFFER; i++) {
            TokenizedSide.Builder side = TokenizedSide.newBuilder().setAssistantMessages(1);
            for (int id : folder.tokenizer().ids(chat(i))) {
                side.addIds(id);
            }
            records.add(TokenizedRecord.newBuilder().setRecordId("r" + i).setStage(WireStage.SFT)
                    .setTokenizerFingerprint(folder.fingerprint()).addSides(side).build());
        }

        try (KafkaStreams first = start(appId, Files.createTempDirectory(dir, "state-1"))) {
            send(records.subList(0, 5));
            awaitCommitted(appId, 5);
            first.close(leaving());
        }
        assertThat(readBatches()).as("5 examples do not fill a buffer of 8, and the lingers are long").isEmpty();

        try (KafkaStreams second = start(appId, Files.createTempDirectory(dir, "state-2"))) {
            send(records.subList(5, records.size()));
            // Committed past every record: every batch they make (B=1, so each packed row at once, in the
            // transaction of the record that filled the buffer) is committed too, and nothing more can come.
            awaitCommitted(appId, records.size());
            List<BatchRow> rows = readBatches().stream().flatMap(b -> b.getRowsList().stream()).filter(r -> !r.getFiller()).toList();

            SftPreparer core = new SftPreparer(folder, new SftOptions(STAGE, T, null));
            Packer packer = new Packer(T, folder.padId(), BUFFER);
            List<PackedRow> expected = new ArrayList<>();
            for (int i = 0; i < records.size(); i++) {
                Row example = core.mask(folder.tokenizer().ids(chat(i)), null).row();
                expected.addAll(packer.add(Rows.realIds(example), Rows.realMask(example), i));
            }
            assertThat(packer.buffered()).isZero();
            assertThat(rows).hasSize(expected.size());
            for (int r = 0; r < rows.size(); r++) {
                Rows.assertIs(rows.get(r), expected.get(r));
                assertThat(rows.get(r).getRecordsList()).extracting(RecordRef::getRecordId)
                        .containsExactlyElementsOf(expected.get(r).lines().stream().map(i -> "r" + i).toList());
            }
            second.close(leaving());
        } finally {
            folder.close();
        }
    }

    /** The topology as the app builds it: T=64, B=1, packing on with a buffer of 8, lingers far beyond the test. */
    private static KafkaStreams start(String appId, Path stateDir) throws Exception {
        LossMaskConfig config = MappedConfig.of(LossMaskConfig.class, Map.of("millrace.stages", STAGE.id(),
                "millrace.seq-len", String.valueOf(T),
                "millrace.batch-size", "1", // each packed row is a batch at once: no batch linger in the way
                "millrace.batch-linger-ms", String.valueOf(Duration.ofMinutes(10).toMillis()),
                "millrace.pack-linger-ms", String.valueOf(Duration.ofMinutes(10).toMillis()),
                "millrace.sft.packing", "on", "millrace.sft.pack-buffer", String.valueOf(BUFFER)));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        KafkaStreams streams = new KafkaStreams(new LossMaskTopology().topology(config, new SimpleMeterRegistry()), props);
        streams.start();
        return streams;
    }

    /** Leaves the group on close, so the next run is assigned the partition at once, not after a session timeout. */
    private static KafkaStreams.CloseOptions leaving() {
        return new KafkaStreams.CloseOptions().leaveGroup(true).timeout(Duration.ofSeconds(30));
    }

    private static void send(List<TokenizedRecord> records) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
            for (TokenizedRecord r : records) {
                producer.send(new ProducerRecord<>(Topics.DEFAULT.tokenized(STAGE), r.getRecordId(), r.toByteArray())).get();
            }
        }
    }

    /** Waits until the app has committed its input offset past {@code count} records (their state is in the changelog). */
    private static void awaitCommitted(String appId, long count) throws Exception {
        TopicPartition input = new TopicPartition(Topics.DEFAULT.tokenized(STAGE), 0);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        try (Admin admin = kafka.admin()) {
            while (System.nanoTime() < deadline) {
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(appId).partitionsToOffsetAndMetadata().get().get(input);
                if (committed != null && committed.offset() >= count) {
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the app did not commit " + count + " input records");
    }

    /** Every committed batch so far (read_committed, up to the end of the topic). */
    private static List<Batch> readBatches() throws Exception {
        List<Batch> batches = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            TopicPartition p = new TopicPartition(Topics.DEFAULT.batches(STAGE), 0);
            consumer.assign(List.of(p));
            consumer.seekToBeginning(List.of(p));
            long end = consumer.endOffsets(List.of(p)).get(p);
            while (consumer.position(p) < end) {
                for (var r : consumer.poll(Duration.ofMillis(200))) {
                    batches.add(Batch.parseFrom(r.value()));
                }
            }
        }
        return batches;
    }

    private static KafkaConsumer<String, byte[]> consumer() {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"), new StringDeserializer(), new ByteArrayDeserializer());
    }
}
