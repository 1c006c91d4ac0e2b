package dev.millrace.cli.ops;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@code ./millrace status} asks the broker with the Admin client: which topics exist, the end
 * offsets of topics, and each consumer group's committed offsets on the deployment's topics.
 */
public final class BrokerStatus implements AutoCloseable {
    private static final long TIMEOUT_S = 15;
    private static final String QUIET_ADMIN = "org.slf4j.simpleLogger.log.org.apache.kafka.clients.admin";
    private static final String QUIET_NETWORK_CLIENT = "org.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient";

    /** A group's lag on one topic: the sum over the partitions it committed on. */
    public record Lag(String group, String topic, long committed, long end) {
        public long lag() {
            return Math.max(0, end - committed);
        }
    }

    private final String bootstrapServers;
    private final Admin admin;

    public BrokerStatus(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
        // an unreachable broker is reported once, in our words, not as a warning per reconnect
        for (String logger : List.of(QUIET_ADMIN, QUIET_NETWORK_CLIENT)) {
            if (System.getProperty(logger) == null) {
                System.setProperty(logger, "error");
            }
        }
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "millrace-cli-status");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(TimeUnit.SECONDS.toMillis(TIMEOUT_S)));
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        this.admin = Admin.create(p);
    }

    /** The names of the broker's topics; {@link TopicScan.Unavailable} when it does not answer. */
    public Set<String> topics() {
        return get(admin.listTopics().names());
    }

    /** The end offsets (read_committed: the last stable offset) of every partition of {@code topics}, summed per topic. */
    public Map<String, Long> endOffsets(Collection<String> topics) {
        Map<String, Long> sums = new TreeMap<>();
        Map<TopicPartition, Long> ends = partitionEnds(partitions(topics));
        ends.forEach((tp, end) -> sums.merge(tp.topic(), end, Long::sum));
        return sums;
    }

    /**
     * Every consumer group's lag on the topics whose names start with {@code topicPrefix}: groups
     * that committed nothing there are left out. Sorted by group, then topic.
     */
    public List<Lag> lags(String topicPrefix) {
        // consumer groups only (Kafka Streams apps use one): share groups have no committed offsets to ask for
        Collection<GroupListing> groups = get(admin.listGroups(ListGroupsOptions.forConsumerGroups()).all());
        Map<String, Map<TopicPartition, OffsetAndMetadata>> committed = new TreeMap<>();
        for (GroupListing g : groups) {
            Map<TopicPartition, OffsetAndMetadata> offsets = get(admin.listConsumerGroupOffsets(g.groupId()).partitionsToOffsetAndMetadata());
            Map<TopicPartition, OffsetAndMetadata> ours = new HashMap<>();
            offsets.forEach((tp, o) -> {
                if (o != null && tp.topic().startsWith(topicPrefix)) {
                    ours.put(tp, o);
                }
            });
            if (!ours.isEmpty()) {
                committed.put(g.groupId(), ours);
            }
        }
        List<TopicPartition> all = committed.values().stream().flatMap(m -> m.keySet().stream()).distinct().toList();
        Map<TopicPartition, Long> ends = partitionEnds(all);
        List<Lag> lags = new ArrayList<>();
        committed.forEach((group, offsets) -> {
            Map<String, long[]> perTopic = new TreeMap<>();
            offsets.forEach((tp, o) -> {
                long[] sums = perTopic.computeIfAbsent(tp.topic(), t -> new long[2]);
                sums[0] += o.offset();
                sums[1] += ends.getOrDefault(tp, o.offset());
            });
            perTopic.forEach((topic, sums) -> lags.add(new Lag(group, topic, sums[0], sums[1])));
        });
        return lags;
    }

    private List<TopicPartition> partitions(Collection<String> topics) {
        if (topics.isEmpty()) {
            return List.of();
        }
        List<TopicPartition> partitions = new ArrayList<>();
        get(admin.describeTopics(topics).allTopicNames()).forEach((name, d) ->
                d.partitions().forEach(p -> partitions.add(new TopicPartition(name, p.partition()))));
        return partitions;
    }

    private Map<TopicPartition, Long> partitionEnds(Collection<TopicPartition> partitions) {
        if (partitions.isEmpty()) {
            return Map.of();
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        Map<TopicPartition, Long> ends = new HashMap<>();
        get(admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all())
                .forEach((tp, info) -> ends.put(tp, info.offset()));
        return ends;
    }

    private <T> T get(org.apache.kafka.common.KafkaFuture<T> future) {
        try {
            return future.get(TIMEOUT_S + 5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TopicScan.Unavailable("interrupted while asking the broker at " + bootstrapServers);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException || cause instanceof java.util.concurrent.TimeoutException) {
                throw new TopicScan.Unavailable("cannot reach a Kafka broker at " + bootstrapServers + " (give it with --bootstrap HOST:PORT)");
            }
            throw new TopicScan.Unavailable("the broker at " + bootstrapServers + " answered: " + cause);
        }
    }

    @Override
    public void close() {
        admin.close(java.time.Duration.ofSeconds(2));
    }
}
