package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

/** The producer's timeouts: short by default, and always a combination Kafka accepts. */
class KafkaRecordSinkTest {

    @Test
    void theDeliveryTimeoutCoversLingerAndTheRequestTimeoutWhateverKafkaStarSets() {
        assertThat(KafkaRecordSink.deliveryTimeoutMs(Map.of())).isEqualTo(KafkaRecordSink.DELIVERY_TIMEOUT_MS);
        assertThat(KafkaRecordSink.deliveryTimeoutMs(Map.of(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000", ProducerConfig.LINGER_MS_CONFIG, "20")))
                .isEqualTo(30_020);
        assertThat(KafkaRecordSink.DELIVERY_TIMEOUT_MS).isGreaterThanOrEqualTo(5 + KafkaRecordSink.REQUEST_TIMEOUT_MS);
    }

    @Test
    void kafkaAcceptsTheDefaultsAndALongerRequestTimeout() {
        // The producer checks delivery.timeout.ms >= linger.ms + request.timeout.ms when it is created (no broker needed).
        for (Map<String, Object> kafka : new Map[] {Map.of(), Map.of(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "60000")}) {
            Map<String, Object> config = new HashMap<>(kafka);
            config.put("bootstrap.servers", "127.0.0.1:9");
            new KafkaRecordSink(config, IngestConfigTest.mapped(Map.of()), new SimpleMeterRegistry()).close();
        }
    }
}
