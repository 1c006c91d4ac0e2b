package dev.millrace.chattemplate;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.DpoPair;
import dev.millrace.core.chat.TextRecord;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.health.StreamRunningCheck;
import dev.millrace.streams.testing.FailureHandling;
import dev.millrace.streams.testing.LocalKafkaResource;
import dev.millrace.streams.testing.TestRecords;
import dev.millrace.streams.testing.TopicClient;
import io.quarkus.kafka.streams.runtime.KafkaStreamsProducer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** The packaged service over a real broker, serving all four stages: a raw record of each comes out templated. */
@QuarkusTest
@QuarkusTestResource(value = LocalKafkaResource.class,
        initArgs = @ResourceArg(name = LocalKafkaResource.STAGES, value = "pretrain,sft,dpo,distill"))
class ChatTemplateServiceTest {
    @Inject
    KafkaStreamsProducer streams;
    @Inject
    StreamsUncaughtExceptionHandler uncaught;

    @Test
    void theStreamsClientRunsWithTheFailureHandlers() {
        FailureHandling.assertConfigured(streams.getStreamsConfig(), uncaught);
    }

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static String bootstrap() {
        return LocalKafkaResource.bootstrapServers();
    }

    @Test
    void rendersRecordsFromTheRawTopic() throws Exception {
        String json = "{\"messages\":[{\"content\":\"2+2?\",\"role\":\"user\"},{\"content\":\"4\",\"role\":\"assistant\"}]}";
        RawRecord r = RawRecord.newBuilder().setRecordId("id-1").setStage(WireStage.SFT).setNormalisedJson(json).build();
        TopicClient.send(bootstrap(), "millrace.sft.raw", "id-1", r.toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.read(bootstrap(), "millrace.sft.templated", 1, WAIT);

        assertThat(out).as("a templated record within 60 s").hasSize(1);
        assertThat(out.get(0).key()).isEqualTo("id-1");
        assertThat(TemplatedRecord.parseFrom(out.get(0).value()).getSides(0).getText())
                .endsWith("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n");
        given().when().get("/q/health").then().statusCode(200).body(containsString("UP"));
        given().when().get("/q/health/ready").then().statusCode(200).body(containsString(StreamRunningCheck.NAME));
        // streams-common's stuck-record check is one of the service's liveness checks
        given().when().get("/q/health/live").then().statusCode(200).body(containsString("records in process"));
        given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("millrace_records_in_total"))
                .body(containsString("millrace_records_out_total"));
    }

    @Test
    void theAppWaitsForTheRawAndTemplatedTopicsOfEveryConfiguredStage() {
        assertThat(ConfigProvider.getConfig().getValues("quarkus.kafka-streams.topics", String.class)).containsExactly(
                "millrace.pretrain.raw", "millrace.pretrain.templated", "millrace.sft.raw", "millrace.sft.templated",
                "millrace.dpo.raw", "millrace.dpo.templated", "millrace.distill.raw", "millrace.distill.templated", "millrace.dlq");
    }

    @Test
    void aPretrainTextComesOutAsGivenAndItsDuplicateIsDropped() throws Exception {
        RawRecord text = TestRecords.raw(Stage.PRETRAIN, ChatTemplateStagesTest.PRETRAIN);
        RawRecord other = TestRecords.raw(Stage.PRETRAIN, "{\"text\": \"another text\"}");
        // One partition: the duplicate is processed before the other record, so reading through the
        // other record's output shows whether the duplicate got out.
        TopicClient.send(bootstrap(), "millrace.pretrain.raw", 0, text.getRecordId(), text.toByteArray());
        TopicClient.send(bootstrap(), "millrace.pretrain.raw", 0, text.getRecordId(), text.toByteArray());
        TopicClient.send(bootstrap(), "millrace.pretrain.raw", 0, other.getRecordId(), other.toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.readThrough(bootstrap(), "millrace.pretrain.templated", other.getRecordId(), WAIT);

        assertThat(out).extracting(ConsumerRecord::key).containsExactlyInAnyOrder(text.getRecordId(), other.getRecordId());
        TemplatedRecord first = TemplatedRecord.parseFrom(out.stream().filter(r -> r.key().equals(text.getRecordId())).findFirst().orElseThrow().value());
        assertThat(first.getSidesList()).hasSize(1);
        assertThat(first.getSides(0).getText()).isEqualTo(((TextRecord) TestRecords.parsed(Stage.PRETRAIN, ChatTemplateStagesTest.PRETRAIN)).text());
        assertThat(first.getSides(0).getAssistantSpansKnown()).isFalse();
    }

    @Test
    void aDpoPairComesOutWithBothSidesAndItsDuplicateIsDropped() throws Exception {
        RawRecord pair = TestRecords.raw(Stage.DPO, ChatTemplateStagesTest.DPO);
        RawRecord other = TestRecords.raw(Stage.DPO, "{\"prompt\": \"hi\", \"chosen\": \"hello\", \"rejected\": \"go away\"}");
        TopicClient.send(bootstrap(), "millrace.dpo.raw", 0, pair.getRecordId(), pair.toByteArray());
        TopicClient.send(bootstrap(), "millrace.dpo.raw", 0, pair.getRecordId(), pair.toByteArray());
        TopicClient.send(bootstrap(), "millrace.dpo.raw", 0, other.getRecordId(), other.toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.readThrough(bootstrap(), "millrace.dpo.templated", other.getRecordId(), WAIT);

        assertThat(out).extracting(ConsumerRecord::key).containsExactlyInAnyOrder(pair.getRecordId(), other.getRecordId());
        TemplatedRecord first = TemplatedRecord.parseFrom(out.stream().filter(r -> r.key().equals(pair.getRecordId())).findFirst().orElseThrow().value());
        DpoPair expected = (DpoPair) TestRecords.parsed(Stage.DPO, ChatTemplateStagesTest.DPO);
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DPO, 2, null));
            assertThat(first.getSidesList()).extracting(s -> s.getText())
                    .containsExactly(core.template(expected.chosen()).text(), core.template(expected.rejected()).text());
        }
    }

    @Test
    void aDpoPairWhoseRejectedSideFailsIsOneDeadLetterNamingTheSide() throws Exception {
        RawRecord bad = TestRecords.raw(Stage.DPO, ChatTemplateStagesTest.DPO_BAD_REJECTED);
        TopicClient.send(bootstrap(), "millrace.dpo.raw", bad.getRecordId(), bad.toByteArray());

        List<ConsumerRecord<String, byte[]>> letters = TopicClient.readThrough(bootstrap(), "millrace.dlq", bad.getRecordId(), WAIT)
                .stream().filter(r -> r.key().equals(bad.getRecordId())).toList();

        assertThat(letters).hasSize(1);
        DeadLetter dead = DeadLetter.parseFrom(letters.get(0).value());
        assertThat(dead.getReason()).isEqualTo("TEMPLATE_ERROR");
        assertThat(dead.getMessage()).startsWith("rejected: ");
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(bad.toByteArray());
    }

    @Test
    void aDistillAnswerComesOutLikeSftWithItsTeacherId() throws Exception {
        RawRecord answer = TestRecords.raw(Stage.DISTILL, ChatTemplateStagesTest.DISTILL, "teacher-1");
        TopicClient.send(bootstrap(), "millrace.distill.raw", answer.getRecordId(), answer.toByteArray());

        List<ConsumerRecord<String, byte[]>> out = TopicClient.read(bootstrap(), "millrace.distill.templated", 1, WAIT);

        assertThat(out).hasSize(1);
        TemplatedRecord t = TemplatedRecord.parseFrom(out.get(0).value());
        assertThat(t.getTeacherId()).isEqualTo("teacher-1");
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DISTILL, 2, null));
            assertThat(t.getSides(0).getText()).isEqualTo(core.template((Conversation) TestRecords.parsed(Stage.DISTILL, ChatTemplateStagesTest.DISTILL)).text());
        }
    }
}
