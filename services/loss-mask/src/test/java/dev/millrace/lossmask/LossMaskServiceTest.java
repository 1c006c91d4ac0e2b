package dev.millrace.lossmask;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.Stage;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.streams.testing.LocalKafkaResource;
import dev.millrace.streams.testing.TopicClient;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The packaged service over a real broker: a lone record still becomes a (lingered) batch of B rows. */
@QuarkusTest
@QuarkusTestResource(LocalKafkaResource.class)
class LossMaskServiceTest {

    @Test
    void aLoneRecordIsSentAfterTheLingerInAFullSizeBatch() throws Exception {
        TokenizedRecord.Builder in = TokenizedRecord.newBuilder().setRecordId("id-1").setStage(Stage.SFT);
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            in.setTokenizerFingerprint(folder.fingerprint());
            TokenizedSide.Builder side = TokenizedSide.newBuilder();
            for (int id : folder.tokenizer().ids("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n")) {
                side.addIds(id);
            }
            in.addSides(side);
        }
        TopicClient.send(LocalKafkaResource.bootstrapServers(), "millrace.sft.tokenized", "id-1", in.build().toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.read(LocalKafkaResource.bootstrapServers(), "millrace.sft.batches", 1, Duration.ofSeconds(60));

        assertThat(out).hasSize(1);
        Batch batch = Batch.parseFrom(out.get(0).value());
        assertThat(out.get(0).key()).isEqualTo(batch.getBatchId());
        assertThat(batch.getRowsCount()).isEqualTo(2);
        assertThat(batch.getRealRows()).isEqualTo(1);
        assertThat(batch.getRows(0).getRecords(0).getRecordId()).isEqualTo("id-1");
        assertThat(batch.getRows(1).getFiller()).isTrue();
        given().when().get("/q/health/ready").then().statusCode(200);
        given().when().get("/q/metrics").then().statusCode(200).body(containsString("millrace_batches_total"))
                .body(containsString("millrace_batch_nonpad_share"));
    }
}
