package dev.millrace.cli.local;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads what the pipeline produced, from the beginning: the batches of one or more batch topics,
 * the dead letters and, when asked, the distillation prompts and record topics (e.g. the teacher's
 * answers on {@code distill.raw}), {@code read_committed} (batches and
 * downstream dead letters are written transactionally), without a consumer group. Not
 * thread-safe: one thread polls.
 */
public final class PipelineOutput implements AutoCloseable {

    /** A message as read, with its key and position. */
    public record Read<T>(String key, int partition, long offset, T value) {
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final String dlqTopic;
    private final String promptTopic;
    private final Map<String, List<Read<Batch>>> batchesByTopic = new LinkedHashMap<>();
    private final List<Read<Batch>> batches = new ArrayList<>();
    private final List<Read<DeadLetter>> deadLetters = new ArrayList<>();
    private final List<Read<RawRecord>> prompts = new ArrayList<>();
    private final Map<String, List<Read<RawRecord>>> recordsByTopic = new LinkedHashMap<>();
    private final List<String> unreadable = new ArrayList<>();
    private long lastReadNanos = System.nanoTime();

    public PipelineOutput(String bootstrapServers, String batchTopic, String dlqTopic) {
        this(bootstrapServers, List.of(batchTopic), dlqTopic, null);
    }

    /**
     * @param batchTopics the batch topics to read (one per stage)
     * @param promptTopic the distillation prompts topic, or null not to read it
     * @throws IllegalStateException when a topic does not exist
     */
    public PipelineOutput(String bootstrapServers, List<String> batchTopics, String dlqTopic, String promptTopic) {
        this(bootstrapServers, batchTopics, dlqTopic, promptTopic, List.of());
    }

    /**
     * @param recordTopics raw record topics to read too ({@link #records(String)})
     * @throws IllegalStateException when a topic does not exist
     */
    public PipelineOutput(String bootstrapServers, List<String> batchTopics, String dlqTopic, String promptTopic, List<String> recordTopics) {
        recordTopics.forEach(t -> recordsByTopic.put(t, new ArrayList<>()));
        this.dlqTopic = dlqTopic;
        this.promptTopic = promptTopic;
        batchTopics.forEach(t -> batchesByTopic.put(t, new ArrayList<>()));
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "millrace-local-output");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, String.valueOf(8 * 1024 * 1024));
        this.consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        Map<String, List<PartitionInfo>> all = consumer.listTopics(Duration.ofSeconds(30));
        List<String> topics = new ArrayList<>(batchTopics);
        topics.add(dlqTopic);
        if (promptTopic != null) {
            topics.add(promptTopic);
        }
        topics.addAll(recordTopics);
        for (String topic : topics) {
            List<PartitionInfo> infos = all.get(topic);
            if (infos == null || infos.isEmpty()) {
                consumer.close();
                throw new IllegalStateException("topic " + topic + " does not exist on " + bootstrapServers);
            }
            infos.forEach(i -> partitions.add(new TopicPartition(i.topic(), i.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
    }

    /** Polls once (up to {@code timeout}); returns how many new messages arrived. */
    public int poll(Duration timeout) {
        ConsumerRecords<String, byte[]> records = consumer.poll(timeout);
        int n = 0;
        for (ConsumerRecord<String, byte[]> r : records) {
            n++;
            if (r.value() == null) {
                unreadable.add(r.topic() + "-" + r.partition() + "@" + r.offset() + ": a tombstone (no value)");
                continue;
            }
            try {
                List<Read<Batch>> topicBatches = batchesByTopic.get(r.topic());
                if (topicBatches != null) {
                    Read<Batch> read = new Read<>(r.key(), r.partition(), r.offset(), Batch.parseFrom(r.value()));
                    topicBatches.add(read);
                    batches.add(read);
                } else if (r.topic().equals(dlqTopic)) {
                    deadLetters.add(new Read<>(r.key(), r.partition(), r.offset(), DeadLetter.parseFrom(r.value())));
                } else if (r.topic().equals(promptTopic)) {
                    prompts.add(new Read<>(r.key(), r.partition(), r.offset(), RawRecord.parseFrom(r.value())));
                } else if (recordsByTopic.containsKey(r.topic())) {
                    recordsByTopic.get(r.topic()).add(new Read<>(r.key(), r.partition(), r.offset(), RawRecord.parseFrom(r.value())));
                }
            } catch (InvalidProtocolBufferException e) {
                unreadable.add(r.topic() + "-" + r.partition() + "@" + r.offset() + ": " + e.getMessage());
            }
        }
        if (n > 0) {
            lastReadNanos = System.nanoTime();
        }
        return n;
    }

    /** The batches of every batch topic read, in arrival order. */
    public List<Read<Batch>> batches() {
        return batches;
    }

    /** The batches of one batch topic (empty for a topic not read). */
    public List<Read<Batch>> batches(String batchTopic) {
        return batchesByTopic.getOrDefault(batchTopic, List.of());
    }

    /** The distillation prompts (empty when the prompts topic is not read). */
    public List<Read<RawRecord>> prompts() {
        return prompts;
    }

    /** The records of one record topic read (empty for a topic not read). */
    public List<Read<RawRecord>> records(String recordTopic) {
        return recordsByTopic.getOrDefault(recordTopic, List.of());
    }

    public List<Read<DeadLetter>> deadLetters() {
        return deadLetters;
    }

    /** Messages that did not parse as their topic's protobuf type, and tombstones (no value). */
    public List<String> unreadable() {
        return unreadable;
    }

    /** Time since the last message arrived (or since this reader was created). */
    public Duration quietFor() {
        return Duration.ofNanos(System.nanoTime() - lastReadNanos);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
