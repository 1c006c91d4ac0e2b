package dev.millrace.cli.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads topics for the operator commands: a whole topic from the beginning up to the end offsets
 * seen when the scan starts, or the one message at a given offset. {@code read_committed} (batch
 * and dead-letter topics are written transactionally), no consumer group, nothing committed.
 */
public final class TopicScan implements AutoCloseable {
    private static final Duration STALL = Duration.ofSeconds(30);
    private static final String QUIET_NETWORK_CLIENT = "org.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient";

    private final String bootstrapServers;
    private final KafkaConsumer<byte[], byte[]> consumer;

    public TopicScan(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
        // An unreachable broker is reported once, as this class's own message; without this the Kafka
        // client warns on standard error at every reconnect attempt. slf4j-simple reads per-logger levels
        // from system properties when a logger is first created.
        if (System.getProperty(QUIET_NETWORK_CLIENT) == null) {
            System.setProperty(QUIET_NETWORK_CLIENT, "error");
        }
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "millrace-cli-ops");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(8 * 1024 * 1024));
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** Thrown when the broker cannot be reached or the topic does not exist; the message says which. */
    public static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message);
        }
    }

    /** The names of the topics on the broker. */
    public java.util.Set<String> topics() {
        try {
            return consumer.listTopics(Duration.ofSeconds(15)).keySet();
        } catch (TimeoutException e) {
            throw new Unavailable(unreachable());
        }
    }

    private String unreachable() {
        return "cannot reach a Kafka broker at " + bootstrapServers + " (give it with --bootstrap HOST:PORT)";
    }

    /** The partitions of {@code topic}. */
    public List<TopicPartition> partitions(String topic) {
        List<PartitionInfo> infos;
        try {
            infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
        } catch (TimeoutException e) {
            throw new Unavailable(unreachable());
        }
        if (infos == null || infos.isEmpty()) {
            throw new Unavailable("topic " + topic + " does not exist on " + bootstrapServers);
        }
        List<TopicPartition> partitions = new ArrayList<>();
        infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
        return partitions;
    }

    /**
     * Hands every committed message of {@code topic}, partition by partition in offset order, to
     * {@code each}, up to the end offsets of the moment the scan starts.
     *
     * @return how many messages were read
     */
    public long readAll(String topic, Consumer<ConsumerRecord<byte[], byte[]>> each) {
        List<TopicPartition> partitions = partitions(topic);
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
        long read = 0;
        long lastProgress = System.nanoTime();
        while (!atEnd(end)) {
            var records = consumer.poll(Duration.ofMillis(200));
            for (ConsumerRecord<byte[], byte[]> r : records) {
                if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                    each.accept(r);
                    read++;
                }
            }
            if (!records.isEmpty()) {
                lastProgress = System.nanoTime();
            } else if (System.nanoTime() - lastProgress > STALL.toNanos()) {
                throw new Unavailable("reading " + topic + " on " + bootstrapServers + " made no progress for " + STALL.toSeconds() + " s");
            }
        }
        consumer.unsubscribe();
        return read;
    }

    private boolean atEnd(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /** The message at {@code offset} of one partition; empty when it is not there (retention, compaction, an aborted write). */
    public Optional<ConsumerRecord<byte[], byte[]>> fetch(String topic, int partition, long offset) {
        TopicPartition tp = new TopicPartition(topic, partition);
        consumer.assign(List.of(tp));
        long end = consumer.endOffsets(List.of(tp)).get(tp);
        long start = consumer.beginningOffsets(List.of(tp)).get(tp);
        if (offset < start || offset >= end) {
            consumer.unsubscribe();
            return Optional.empty();
        }
        consumer.seek(tp, offset);
        long lastProgress = System.nanoTime();
        try {
            while (consumer.position(tp) <= offset) {
                var records = consumer.poll(Duration.ofMillis(200));
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    if (r.offset() == offset) {
                        return Optional.of(r);
                    }
                    if (r.offset() > offset) {
                        return Optional.empty();
                    }
                }
                if (!records.isEmpty()) {
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > STALL.toNanos()) {
                    throw new Unavailable("reading " + tp + " on " + bootstrapServers + " made no progress for " + STALL.toSeconds() + " s");
                }
            }
            return Optional.empty();
        } finally {
            consumer.unsubscribe();
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
