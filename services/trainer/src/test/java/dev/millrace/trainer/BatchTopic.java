package dev.millrace.trainer;

import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.training.TestBatches;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** SFT batches as loss-mask writes them (each in its own transaction), tokenized with the bundled tokenizer's fingerprint. */
final class BatchTopic {
    static final int VOCAB = 4096;
    static final int ROWS = 2;

    private BatchTopic() {
    }

    /** {@code count} random SFT batches of T = {@code seqLen}, ids {@code sft-p0-<n from first>}. */
    static List<Batch> batches(long seed, int first, int count, int seqLen) {
        String fingerprint;
        try (TokenizerFolder tokenizer = TokenizerFolder.bundled()) {
            fingerprint = tokenizer.fingerprint();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return TestBatches.randomUnpacked(seed, count, seqLen, ROWS, VOCAB).stream()
                .map(b -> b.toBuilder().setTokenizerFingerprint(fingerprint)
                        .setBatchId(String.format("sft-p0-%08d", first + Integer.parseInt(b.getBatchId().substring(7)))).build())
                .toList();
    }

    /** Commits each batch in its own transaction to partition 0 of {@code topic}. */
    static void commit(String bootstrapServers, String topic, List<Batch> batches) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "trainer-test-" + UUID.randomUUID());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
            producer.initTransactions();
            for (Batch b : batches) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, b.getBatchId(), b.toByteArray()));
                producer.commitTransaction();
            }
        }
    }
}
