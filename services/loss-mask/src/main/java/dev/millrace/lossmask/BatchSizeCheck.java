package dev.millrace.lossmask;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import io.quarkus.kafka.streams.runtime.KafkaStreamsProducer;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.interceptor.Interceptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.streams.StreamsConfig;
import org.jboss.logging.Logger;

/**
 * At startup, before the stream starts: every stage's largest possible batch must fit the producer's
 * {@code max.request.size} and its batch topic's {@code max.message.bytes} (read with the admin
 * client), or the service refuses to start, naming B, T and both limits ({@link BatchSizeLimits}).
 * A batch topic that does not exist yet is checked once it does (the stream waits for it too); a
 * limit that is too small then stops the service.
 */
@ApplicationScoped
public class BatchSizeCheck {
    private static final Logger LOG = Logger.getLogger(BatchSizeCheck.class);
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration TOPIC_POLL = Duration.ofSeconds(1);

    @Inject
    KafkaStreamsProducer streams;
    @Inject
    LossMaskTopology topology;
    @Inject
    LossMaskConfig config;
    /** The batch topics' limits once checked and found large enough (empty before). */
    private volatile Map<String, Long> passed = Map.of();

    void onStart(@Observes @Priority(Interceptor.Priority.PLATFORM_BEFORE) StartupEvent event) throws InterruptedException {
        StreamsConfig streamsConfig = streams.getStreamsConfig(); // built with the topology: the largest batches are known
        int maxRequestSize = maxRequestSize(streamsConfig);
        Map<Stage, BatchSizeLimits.Largest> largest = topology.largestBatches();
        Topics topics = config.topics();
        Admin admin = Admin.create(streamsConfig.getAdminConfigs("millrace-loss-mask-batch-size-check"));
        try {
            Map<String, Long> limits = topicLimits(admin, topics, largest.keySet());
            if (limits != null) {
                admin.close(ADMIN_TIMEOUT);
                throwIfTooLarge(largest, maxRequestSize, topics, limits);
                passed(largest, maxRequestSize, limits);
                return;
            }
        } catch (RuntimeException | InterruptedException e) {
            admin.close(ADMIN_TIMEOUT);
            throw e;
        }
        LOG.infof("a batch topic of %s does not exist yet; its max.message.bytes is checked once it does", largest.keySet());
        Thread later = new Thread(() -> checkOnceTheTopicsExist(admin, largest, maxRequestSize, topics), "batch-size-check");
        later.setDaemon(true);
        later.start();
    }

    /** The batch topics' {@code max.message.bytes} the check found large enough; empty until it has passed. */
    public Map<String, Long> passed() {
        return passed;
    }

    private void passed(Map<Stage, BatchSizeLimits.Largest> largest, int maxRequestSize, Map<String, Long> limits) {
        passed = Map.copyOf(limits);
        for (BatchSizeLimits.Largest l : largest.values()) {
            LOG.infof("the largest possible %s batch (B=%d, T=%d) is %,d bytes: within max.request.size (%,d) and %s's max.message.bytes (%,d)",
                    l.stage().id(), l.batchSize(), l.seqLen(), l.recordBytes(), maxRequestSize, config.topics().batches(l.stage()),
                    limits.get(config.topics().batches(l.stage())));
        }
    }

    private void checkOnceTheTopicsExist(Admin admin, Map<Stage, BatchSizeLimits.Largest> largest, int maxRequestSize, Topics topics) {
        try (admin) {
            Map<String, Long> limits;
            while ((limits = topicLimits(admin, topics, largest.keySet())) == null) {
                Thread.sleep(TOPIC_POLL.toMillis());
            }
            throwIfTooLarge(largest, maxRequestSize, topics, limits);
            passed(largest, maxRequestSize, limits);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("loss-mask stops: " + e.getMessage(), e);
            Quarkus.asyncExit(1);
        }
    }

    /** The check itself: every stage's largest batch against both limits; an exception naming each stage that does not fit. */
    static void throwIfTooLarge(Map<Stage, BatchSizeLimits.Largest> largest, int maxRequestSize, Topics topics, Map<String, Long> maxMessageBytes) {
        List<String> problems = new ArrayList<>();
        for (BatchSizeLimits.Largest l : largest.values()) {
            String topic = topics.batches(l.stage());
            BatchSizeLimits.problem(l, maxRequestSize, topic, maxMessageBytes.get(topic)).ifPresent(problems::add);
        }
        if (!problems.isEmpty()) {
            throw new IllegalStateException(String.join("; ", problems));
        }
    }

    /** The producer's effective {@code max.request.size} (Kafka's default unless set). */
    static int maxRequestSize(StreamsConfig streamsConfig) {
        Object value = streamsConfig.getProducerConfigs("millrace-loss-mask-batch-size-check").get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        if (value == null) {
            value = ProducerConfig.configDef().defaultValues().get(ProducerConfig.MAX_REQUEST_SIZE_CONFIG);
        }
        return (Integer) ConfigDef.parseType(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, value, ConfigDef.Type.INT);
    }

    /** Each stage's batch topic's {@code max.message.bytes}, or null while one of them does not exist. */
    static Map<String, Long> topicLimits(Admin admin, Topics topics, Iterable<Stage> stages) throws InterruptedException {
        List<ConfigResource> resources = new ArrayList<>();
        for (Stage stage : stages) {
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, topics.batches(stage)));
        }
        Map<ConfigResource, Config> configs;
        try {
            configs = admin.describeConfigs(resources).all().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                return null;
            }
            throw new IllegalStateException("reading the batch topics' max.message.bytes failed: " + e.getCause(), e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("reading the batch topics' max.message.bytes took longer than " + ADMIN_TIMEOUT.toSeconds() + " s", e);
        }
        Map<String, Long> limits = new HashMap<>();
        for (Map.Entry<ConfigResource, Config> c : configs.entrySet()) {
            ConfigEntry entry = c.getValue().get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
            limits.put(c.getKey().name(), Long.parseLong(entry.value()));
        }
        return limits;
    }
}
