package dev.millrace.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.quarkus.runtime.Startup;
import io.smallrye.common.annotation.Identifier;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The one idempotent, acks=all producer of the service. Settings from {@code kafka.*} pass through
 * (security, timeouts); idempotence and acks are not negotiable because the HTTP answer promises
 * that every accepted line is on the broker.
 */
@Startup
@Singleton
public class KafkaRecordSink implements RecordSink {
    static final int MAX_BLOCK_MS = 5_000;
    static final int REQUEST_TIMEOUT_MS = 5_000;
    static final int DELIVERY_TIMEOUT_MS = 10_000;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaClientMetrics metrics;

    @Inject
    KafkaRecordSink(@Identifier("default-kafka-broker") Map<String, Object> kafka,
                    IngestConfig ingestConfig, MeterRegistry registry) {
        long maxRecordBytes = ingestConfig.ingest().maxRecordBytes();
        Map<String, Object> config = BrokerSettings.clientConfig(kafka);
        config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "millrace-ingest");
        // A normalised record can be about twice its line (positional roles gain a "role" key), and the
        // dead letter of a too-large line keeps max-record-bytes of it; Kafka's 1 MiB default would turn a
        // line the contract accepts into a 503 on every retry. Compression keeps such batches under the
        // broker's own message.max.bytes in the usual case.
        // (An int: a max-record-bytes near 1 GiB would overflow it.)
        config.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, (int) Math.min(Integer.MAX_VALUE, 2 * maxRecordBytes + 64 * 1024));
        config.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        // A missing topic or an unreachable broker should answer 503 in seconds, not after Kafka's defaults
        // (a minute waiting for metadata, two minutes for an acknowledgement). A send that gives up leaves
        // nothing accepted: the client sends the body again, and the same record ids are dropped downstream.
        config.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK_MS);
        config.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_TIMEOUT_MS);
        // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms (and refuses to start
        // otherwise): the default follows a request timeout or linger set through kafka.*.
        config.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryTimeoutMs(config));
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
        // Quarkus binds only the Kafka clients it creates to Micrometer; this producer is made by hand.
        this.metrics = new KafkaClientMetrics(producer);
        metrics.bindTo(registry);
    }

    /** {@link #DELIVERY_TIMEOUT_MS}, or linger.ms + request.timeout.ms where those add up to more. */
    static int deliveryTimeoutMs(Map<String, Object> config) {
        long linger = milliseconds(config.get(ProducerConfig.LINGER_MS_CONFIG), 5);
        long request = milliseconds(config.get(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG), REQUEST_TIMEOUT_MS);
        return (int) Math.min(Integer.MAX_VALUE, Math.max(DELIVERY_TIMEOUT_MS, linger + request));
    }

    private static long milliseconds(Object value, long absent) {
        return value == null ? absent : Long.parseLong(value.toString().trim());
    }

    @Override
    public CompletableFuture<Void> send(String topic, String key, byte[] value) {
        CompletableFuture<Void> acked = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(topic, key, value), (metadata, error) -> {
                if (error != null) {
                    acked.completeExceptionally(error);
                } else {
                    acked.complete(null);
                }
            });
        } catch (RuntimeException e) { // e.g. the producer is closing, or a serializer failed
            acked.completeExceptionally(e);
        }
        return acked;
    }

    @PreDestroy
    void close() {
        metrics.close();
        producer.close(Duration.ofSeconds(10));
    }
}
