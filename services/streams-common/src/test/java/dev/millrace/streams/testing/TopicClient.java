package dev.millrace.streams.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** Test helper: write to and read from topics of a real broker (reads are read_committed). */
public final class TopicClient {
    private TopicClient() {
    }

    public static void send(String bootstrap, String topic, String key, byte[] value) throws Exception {
        send(bootstrap, new ProducerRecord<>(topic, key, value));
    }

    /**
     * Sends to one partition: records sent to the same partition are processed in order, so once the
     * output of the last one is visible, the earlier ones have been processed too.
     */
    public static void send(String bootstrap, String topic, int partition, String key, byte[] value) throws Exception {
        send(bootstrap, new ProducerRecord<>(topic, partition, key, value));
    }

    private static void send(String bootstrap, ProducerRecord<String, byte[]> record) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(record).get();
        }
    }

    /**
     * Reads from the beginning until a record keyed {@code lastKey} arrived, then on to the committed
     * end of every partition as it was then: everything committed with or before that record, so a
     * record that should not be there (a duplicate sent before it) would be seen. Stops at the timeout.
     */
    public static List<ConsumerRecord<String, byte[]>> readThrough(String bootstrap, String topic, String lastKey, Duration timeout) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            Map<TopicPartition, Long> end = null;
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    out.add(r);
                    if (end == null && lastKey.equals(r.key())) {
                        end = consumer.endOffsets(partitions);
                    }
                }
                if (end != null && reached(consumer, end)) {
                    break;
                }
            }
        }
        return out;
    }

    private static boolean reached(KafkaConsumer<String, byte[]> consumer, Map<TopicPartition, Long> end) {
        return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
        return new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** Reads from the beginning until {@code count} records arrived or the timeout passed. */
    public static List<ConsumerRecord<String, byte[]>> read(String bootstrap, String topic, int count, Duration timeout) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer(bootstrap)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (out.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(300)).forEach(out::add);
            }
        }
        return out;
    }
}
