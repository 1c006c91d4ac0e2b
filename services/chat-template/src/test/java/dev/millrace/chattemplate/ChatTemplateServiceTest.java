package dev.millrace.chattemplate;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.streams.testing.LocalKafkaResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/** The packaged service over a real broker: a raw record comes out templated, with health and metrics. */
@QuarkusTest
@QuarkusTestResource(LocalKafkaResource.class)
class ChatTemplateServiceTest {

    @Test
    void rendersRecordsFromTheRawTopicExactlyOnce() throws Exception {
        String json = "{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},{\"content\":\"4\",\"role\":\"assistant\"}]}";
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalKafkaResource.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            RawRecord r = RawRecord.newBuilder().setRecordId("id-1").setStage(dev.millrace.proto.v1.Stage.SFT).setNormalisedJson(json).build();
            producer.send(new ProducerRecord<>("millrace.sft.raw", "id-1", r.toByteArray())).get();
        }

        TemplatedRecord out = null;
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalKafkaResource.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "test-reader",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of("millrace.sft.templated"));
            long deadline = System.currentTimeMillis() + 60_000;
            while (out == null && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, byte[]> rec : consumer.poll(Duration.ofMillis(500))) {
                    out = TemplatedRecord.parseFrom(rec.value());
                    assertThat(rec.key()).isEqualTo("id-1");
                }
            }
        }
        assertThat(out).as("a templated record within 60 s").isNotNull();
        assertThat(out.getSides(0).getText()).endsWith("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n");

        given().when().get("/q/health").then().statusCode(200).body(containsString("UP"));
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("millrace_records_in_total"))
                .body(containsString("millrace_records_out_total"));
    }
}
