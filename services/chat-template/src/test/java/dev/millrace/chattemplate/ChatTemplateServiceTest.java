package dev.millrace.chattemplate;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.streams.testing.LocalKafkaResource;
import dev.millrace.streams.testing.TopicClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The packaged service over a real broker: a raw record comes out templated, with health and metrics. */
@QuarkusTest
@QuarkusTestResource(LocalKafkaResource.class)
class ChatTemplateServiceTest {

    @Test
    void rendersRecordsFromTheRawTopic() throws Exception {
        String json = "{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},{\"content\":\"4\",\"role\":\"assistant\"}]}";
        RawRecord r = RawRecord.newBuilder().setRecordId("id-1").setStage(dev.millrace.proto.v1.Stage.SFT).setNormalisedJson(json).build();
        TopicClient.send(LocalKafkaResource.bootstrapServers(), "millrace.sft.raw", "id-1", r.toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.read(LocalKafkaResource.bootstrapServers(), "millrace.sft.templated", 1, Duration.ofSeconds(60));

        assertThat(out).as("a templated record within 60 s").hasSize(1);
        assertThat(out.get(0).key()).isEqualTo("id-1");
        assertThat(TemplatedRecord.parseFrom(out.get(0).value()).getSides(0).getText())
                .endsWith("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n");
        given().when().get("/q/health").then().statusCode(200).body(containsString("UP"));
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("millrace_records_in_total"))
                .body(containsString("millrace_records_out_total"));
    }
}
