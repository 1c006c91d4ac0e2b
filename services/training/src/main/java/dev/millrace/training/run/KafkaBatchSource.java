package dev.millrace.training.run;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.proto.v1.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The batches of one batch topic, read {@code read_committed} (batches of aborted transactions are never
 * seen) from every partition, ASSIGNED rather than subscribed: where reading starts comes from the
 * trainer's checkpoint, never from a consumer group's commits, and nothing is committed to Kafka.
 * {@code auto.offset.reset=none}: an offset that is gone is an error, never a silent jump.
 */
public final class KafkaBatchSource implements AutoCloseable {
    /** One batch and where it was read. */
    public record Read(int partition, long offset, Batch batch) {
    }

    private final String topic;
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<TopicPartition> partitions = new ArrayList<>();

    /** Connects and assigns every partition of {@code topic}; fails when the topic does not exist. */
    public KafkaBatchSource(String bootstrapServers, String topic, String clientId) {
        this(bootstrapServers, Map.of(), topic, clientId);
    }

    /**
     * As above, with more client settings ({@code clientConfig}: SASL/TLS, timeouts, ...). The settings that make
     * reading exactly-once (isolation level, no auto commit, no offset reset) and the bootstrap servers are this
     * class's and win over {@code clientConfig}'s.
     */
    public KafkaBatchSource(String bootstrapServers, Map<String, ?> clientConfig, String topic, String clientId) {
        this.topic = topic;
        Properties p = new Properties();
        p.putAll(clientConfig);
        p.remove(ConsumerConfig.GROUP_ID_CONFIG); // no consumer group: partitions are assigned, offsets come from checkpoints
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        p.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        // A batch of minimind-26m at B=32, T=2048 is a few hundred KB: fetch whole batches, a few at a time.
        p.putIfAbsent(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(16 * 1024 * 1024));
        p.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "64");
        // A seek (the next pass) waits for the fetch in flight at the log's end, which the broker holds up to this
        // long when there is nothing new (default 500 ms): short, so passes follow each other without a pause.
        p.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(30));
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("batch topic " + topic + " does not exist on " + bootstrapServers);
            }
            infos.forEach(i -> partitions.add(new TopicPartition(topic, i.partition())));
            partitions.sort((a, b) -> Integer.compare(a.partition(), b.partition()));
            consumer.assign(partitions);
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    public String topic() {
        return topic;
    }

    /**
     * Positions every partition: at {@code next.get(partition)} where given (a checkpoint's next offsets), at
     * the beginning of the log otherwise. An offset below the log's start (retention deleted batches never
     * trained) or beyond its end (the topic was recreated) fails with the topic, partition and offsets.
     * Returns the next offset of every partition.
     */
    public Map<Integer, Long> seek(Map<Integer, Long> next) {
        Map<TopicPartition, Long> starts = consumer.beginningOffsets(partitions, Duration.ofSeconds(30));
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
        List<String> problems = new ArrayList<>();
        Map<Integer, Long> positions = new TreeMap<>();
        for (TopicPartition tp : partitions) {
            Long at = next.get(tp.partition());
            long start = starts.get(tp);
            long end = ends.get(tp);
            if (at == null) {
                positions.put(tp.partition(), start);
            } else if (at < start) {
                problems.add("partition " + tp.partition() + ": the checkpoint's next offset is " + at + " but the log now starts at "
                        + start + " (offsets " + at + ".." + (start - 1) + " were deleted, by retention or deleteRecords, before they were trained)");
            } else if (at > end) {
                problems.add("partition " + tp.partition() + ": the checkpoint's next offset is " + at + " but the log ends at " + end
                        + " (was the topic recreated?)");
            } else {
                positions.put(tp.partition(), at);
            }
        }
        next.keySet().stream().filter(p -> partitions.stream().noneMatch(tp -> tp.partition() == p))
                .forEach(p -> problems.add("partition " + p + " of the checkpoint no longer exists"));
        if (!problems.isEmpty()) {
            throw new VanishedOffsetsException("cannot resume reading " + topic + " where the checkpoint stopped: "
                    + String.join("; ", problems) + ". Training on would skip batches silently; start a fresh checkpoint "
                    + "directory (with --init from this checkpoint) to train on what is left.");
        }
        for (TopicPartition tp : partitions) {
            consumer.seek(tp, positions.get(tp.partition()));
        }
        return positions;
    }

    /** Positions every partition at the beginning of its log (a new pass); returns the next offsets. */
    public Map<Integer, Long> seekToBeginning() {
        return seek(Map.of());
    }

    /** The end of every partition as a read_committed reader sees it (the last stable offset). */
    public Map<Integer, Long> endOffsets() {
        Map<Integer, Long> out = new TreeMap<>();
        consumer.endOffsets(partitions, Duration.ofSeconds(30)).forEach((tp, end) -> out.put(tp.partition(), end));
        return out;
    }

    /** Whether every partition's position has reached {@code ends} (markers and aborted batches included). */
    public boolean reached(Map<Integer, Long> ends) {
        for (TopicPartition tp : partitions) {
            if (consumer.position(tp, Duration.ofSeconds(30)) < ends.getOrDefault(tp.partition(), 0L)) {
                return false;
            }
        }
        return true;
    }

    /** The committed batches that arrived, in each partition's order; a message that is not a Batch fails with where it is. */
    public List<Read> poll(Duration timeout) {
        Iterable<ConsumerRecord<String, byte[]>> records;
        try {
            records = consumer.poll(timeout);
        } catch (OffsetOutOfRangeException e) {
            throw new VanishedOffsetsException("reading " + topic + " hit offsets that are gone: " + describe(e.offsetOutOfRangePartitions().entrySet())
                    + " (deleted by retention or deleteRecords before they were trained). Training on would skip batches silently.", e);
        }
        List<Read> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            if (r.value() == null) {
                throw new IllegalStateException(where(r.partition(), r.offset()) + " is a tombstone, not a batch");
            }
            try {
                out.add(new Read(r.partition(), r.offset(), Batch.parseFrom(r.value())));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException(where(r.partition(), r.offset()) + " is not a Batch: " + e.getMessage(), e);
            }
        }
        return out;
    }

    /** {@code <topic>-<partition>@<offset>}, as the errors name a message. */
    public String where(int partition, long offset) {
        return topic + "-" + partition + "@" + offset;
    }

    private String describe(Collection<Map.Entry<TopicPartition, Long>> offsets) {
        List<String> parts = new ArrayList<>();
        offsets.forEach(e -> parts.add("partition " + e.getKey().partition() + " at offset " + e.getValue()));
        return String.join(", ", parts);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
