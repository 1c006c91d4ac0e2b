package dev.millrace.cli;

import dev.millrace.kafkalocal.LocalKafka;
import java.nio.file.Path;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A real in-process broker for the operator commands' tests, with a transactional producer (the
 * services write batches and dead letters in transactions) and a plain one (ingest's raw records).
 */
final class InProcessBroker implements AutoCloseable {
    final LocalKafka kafka;
    private final KafkaProducer<String, byte[]> plain;
    private final KafkaProducer<String, byte[]> transactional;

    InProcessBroker(Path dir, String... topics) {
        kafka = LocalKafka.start(dir);
        kafka.createTopics(2, topics);
        plain = new KafkaProducer<>(props(null), new StringSerializer(), new ByteArraySerializer());
        transactional = new KafkaProducer<>(props("ops-test-" + UUID.randomUUID()), new StringSerializer(), new ByteArraySerializer());
        transactional.initTransactions();
    }

    private Properties props(String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        if (transactionalId != null) {
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return p;
    }

    String bootstrap() {
        return kafka.bootstrapServers();
    }

    /** Writes one message outside a transaction (as ingest does); returns its offset. */
    long plain(String topic, int partition, String key, byte[] value) throws Exception {
        return plain.send(new ProducerRecord<>(topic, partition, key, value)).get().offset();
    }

    /** Writes one message in its own committed transaction (as the stream services do); returns its offset. */
    long committed(String topic, int partition, String key, byte[] value) throws Exception {
        transactional.beginTransaction();
        var sent = transactional.send(new ProducerRecord<>(topic, partition, key, value));
        transactional.commitTransaction();
        return sent.get().offset();
    }

    /** Writes one message in a transaction that is aborted: read_committed readers never see it. */
    void aborted(String topic, int partition, String key, byte[] value) throws Exception {
        transactional.beginTransaction();
        transactional.send(new ProducerRecord<>(topic, partition, key, value)).get();
        transactional.abortTransaction();
    }

    @Override
    public void close() {
        plain.close();
        transactional.close();
        kafka.close();
    }
}
