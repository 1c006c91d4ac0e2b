package dev.millrace.tokenize;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.Stage;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.streams.testing.LocalKafkaResource;
import dev.millrace.streams.testing.TopicClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The packaged service over a real broker. */
@QuarkusTest
@QuarkusTestResource(LocalKafkaResource.class)
class TokenizeServiceTest {

    @Test
    void tokenizesRecordsFromTheTemplatedTopic() throws Exception {
        String fingerprint;
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            fingerprint = folder.fingerprint();
        }
        TemplatedRecord in = TemplatedRecord.newBuilder().setRecordId("id-1").setStage(Stage.SFT).setTokenizerFingerprint(fingerprint)
                .addSides(RenderedSide.newBuilder().setText("<|im_start|>assistant\nok<|im_end|>\n")).build();
        TopicClient.send(LocalKafkaResource.bootstrapServers(), "millrace.sft.templated", "id-1", in.toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.read(LocalKafkaResource.bootstrapServers(), "millrace.sft.tokenized", 1, Duration.ofSeconds(60));

        assertThat(out).hasSize(1);
        assertThat(out.get(0).key()).isEqualTo("id-1");
        TokenizedRecord t = TokenizedRecord.parseFrom(out.get(0).value());
        assertThat(t.getSides(0).getIdsList()).startsWith(1).endsWith(2, 201);
        given().when().get("/q/health/ready").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200).body(containsString("millrace_tokens_total"));
    }
}
