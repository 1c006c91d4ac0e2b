package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.kafkalocal.LocalKafka;
import dev.millrace.proto.v1.RawRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The producer's real timeouts against a broker of its own that goes away and comes back (the
 * module's shared test broker stays up for the other tests): 503 with Retry-After within seconds,
 * at once while the broker is known to be away, and the same body accepted once it is back.
 */
class BrokerAwayTest {
    private static final byte[] BODY = "{\"text\": \"one record, sent three times\"}\n".getBytes(StandardCharsets.UTF_8);
    /** Generous for a loaded CI machine; the producer gives up after max.block.ms or delivery.timeout.ms (5 s / 10 s). */
    private static final long BOUND_MS = 30_000;

    @Test
    void aRequestWhileTheBrokerIsAwayIs503WithRetryAfterAndTheSameBodyIsAcceptedOnceItIsBack(@TempDir Path dir) throws Exception {
        int[] ports = twoFreePorts();
        LocalKafka kafka = LocalKafka.start(dir, ports[0], ports[1]);
        KafkaRecordSink sink = null;
        try {
            kafka.createTopics(1, "millrace.pretrain.raw", "millrace.dlq");
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            IngestConfig config = IngestConfigTest.mapped(Map.of("millrace.stages", "pretrain"));
            sink = new KafkaRecordSink(Map.of("bootstrap.servers", kafka.bootstrapServers()), config, registry);
            IngestResource resource = new IngestResource(new EnabledStages(config, registry), new RecordProducer(sink),
                    new RequestSlots(config, registry), config);
            assertThat(post(resource).getStatus()).as("the broker is up").isEqualTo(200);

            kafka.close();
            long start = System.nanoTime();
            Response away = post(resource);
            long tookMs = Duration.ofNanos(System.nanoTime() - start).toMillis();

            assertThat(away.getStatus()).isEqualTo(503);
            assertThat(away.getHeaderString(HttpHeaders.RETRY_AFTER)).isEqualTo(String.valueOf(BrokerOutage.RETRY_AFTER_SECONDS));
            assertThat(((IngestResource.Problem) away.getEntity()).message()).contains("did not acknowledge").contains("again is safe");
            assertThat(tookMs).as("answered within the producer's timeouts, not Kafka's two-minute default").isLessThan(BOUND_MS);

            Response refused = post(resource);
            assertThat(refused.getStatus()).isEqualTo(503);
            assertThat(refused.getHeaderString(HttpHeaders.RETRY_AFTER)).isEqualTo(String.valueOf(BrokerOutage.RETRY_AFTER_SECONDS));
            assertThat(((IngestResource.Problem) refused.getEntity()).message())
                    .as("the broker is known to be away: refused without sending").contains("the broker is away").contains("nothing of this body was sent");

            kafka = LocalKafka.start(dir, ports[0], ports[1]);
            int status = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (status != 200 && System.nanoTime() < deadline) {
                Response again = post(resource);
                status = again.getStatus();
                if (status == 503) {
                    // as a client does: wait as long as Retry-After says
                    Thread.sleep(Long.parseLong(again.getHeaderString(HttpHeaders.RETRY_AFTER)) * 1000);
                }
            }
            assertThat(status).as("the same body, sent again once the broker is back").isEqualTo(200);
            List<String> ids = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : read(kafka.bootstrapServers(), "millrace.pretrain.raw")) {
                ids.add(RawRecord.parseFrom(r.value()).getRecordId());
            }
            assertThat(ids).as("the send before the outage and the one after it, nothing of the refused ones; "
                    + "one record id, so downstream drops the duplicate").hasSize(2).containsOnly(ids.get(0));
        } finally {
            if (sink != null) {
                sink.close();
            }
            kafka.close();
        }
    }

    private static Response post(IngestResource resource) {
        return IngestResourceTest.post(resource, "pretrain", null, null, null, null, null, BODY);
    }

    /** Everything on the topic up to its end offsets now. */
    private static List<ConsumerRecord<String, byte[]>> read(String bootstrap, String topic) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "broker-away-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
            var partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            var end = consumer.endOffsets(partitions);
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 30_000;
            while (!end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                assertThat(System.currentTimeMillis()).as("read " + topic + " up to " + end).isLessThan(deadline);
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    /** Two free loopback ports, held together so they differ: the restarted broker needs the same ones. */
    private static int[] twoFreePorts() throws IOException {
        try (ServerSocket a = new ServerSocket(0, 0, InetAddress.getLoopbackAddress());
             ServerSocket b = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }
}
