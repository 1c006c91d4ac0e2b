package dev.millrace.tokenize;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.WireSpans;
import dev.millrace.streams.health.StreamRunningCheck;
import dev.millrace.streams.testing.FailureHandling;
import dev.millrace.streams.testing.LocalKafkaResource;
import dev.millrace.streams.testing.TopicClient;
import io.quarkus.kafka.streams.runtime.KafkaStreamsProducer;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** The packaged service over a real broker, serving all four stages. */
@QuarkusTest
@QuarkusTestResource(value = LocalKafkaResource.class,
        initArgs = @ResourceArg(name = LocalKafkaResource.STAGES, value = "pretrain,sft,dpo,distill"))
class TokenizeServiceTest {
    @Inject
    KafkaStreamsProducer streams;
    @Inject
    StreamsUncaughtExceptionHandler uncaught;

    @Test
    void theStreamsClientRunsWithTheFailureHandlers() {
        FailureHandling.assertConfigured(streams.getStreamsConfig(), uncaught);
    }

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static String fingerprint() throws Exception {
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            return folder.fingerprint();
        }
    }

    private static TokenizedRecord roundTrip(String stage, TemplatedRecord in) throws Exception {
        TopicClient.send(LocalKafkaResource.bootstrapServers(), "millrace." + stage + ".templated", in.getRecordId(), in.toByteArray());
        List<ConsumerRecord<String, byte[]>> out = TopicClient.read(LocalKafkaResource.bootstrapServers(), "millrace." + stage + ".tokenized", 1, WAIT);
        assertThat(out).as(stage + ": a tokenized record within 60 s").hasSize(1);
        assertThat(out.get(0).key()).isEqualTo(in.getRecordId());
        return TokenizedRecord.parseFrom(out.get(0).value());
    }

    @Test
    void tokenizesRecordsFromTheTemplatedTopic() throws Exception {
        TemplatedRecord in = TemplatedRecord.newBuilder().setRecordId("id-1").setStage(WireStage.SFT).setTokenizerFingerprint(fingerprint())
                .addSides(RenderedSide.newBuilder().setText("<|im_start|>assistant\nok<|im_end|>\n")).build();

        TokenizedRecord t = roundTrip("sft", in);

        assertThat(t.getSides(0).getIdsList()).startsWith(1).endsWith(2, 201);
        given().when().get("/q/health/ready").then().statusCode(200).body(containsString(StreamRunningCheck.NAME));
        given().when().get("/q/metrics").then().statusCode(200).body(containsString("millrace_tokens_total"));
    }

    @Test
    void theAppWaitsForTheTemplatedAndTokenizedTopicsOfEveryConfiguredStage() {
        assertThat(ConfigProvider.getConfig().getValues("quarkus.kafka-streams.topics", String.class)).containsExactly(
                "millrace.pretrain.templated", "millrace.pretrain.tokenized", "millrace.sft.templated", "millrace.sft.tokenized",
                "millrace.dpo.templated", "millrace.dpo.tokenized", "millrace.distill.templated", "millrace.distill.tokenized",
                "millrace.dlq");
    }

    @Test
    void aPretrainTextComesOutWrapped() throws Exception {
        String text = "Hello 世界";
        TokenizedRecord t = roundTrip("pretrain", TokenizeStagesTest.pretrain("p-1", text, fingerprint()));

        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            PretrainPreparer.Wrapped expected = new PretrainPreparer(folder, 2, null, Wrap.AUTO).wrap(text);
            assertThat(t.getSides(0).getIdsList()).isEqualTo(Arrays.stream(expected.ids()).boxed().toList());
            assertThat(t.getSides(0).getEosAdded()).isTrue();
        }
    }

    @Test
    void bothSidesOfADpoPairComeOutTokenized() throws Exception {
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            TemplatedRecord in = TokenizeStagesTest.dpo("d-1", folder);
            TokenizedRecord t = roundTrip("dpo", in);

            SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DPO, 2, null));
            assertThat(t.getSidesList()).hasSize(2);
            for (int i = 0; i < 2; i++) {
                SftPreparer.Tokenized expected = core.tokenize(in.getSides(i).getText(), WireSpans.textSpans(in.getSides(i)));
                assertThat(t.getSides(i).getIdsList()).isEqualTo(Arrays.stream(expected.ids()).boxed().toList());
                assertThat(WireSpans.tokenSpans(t.getSides(i))).isEqualTo(expected.assistantTokenSpans());
            }
        }
    }

    @Test
    void aDistillAnswerKeepsItsTeacherId() throws Exception {
        TemplatedRecord in = TemplatedRecord.newBuilder().setRecordId("t-1").setStage(WireStage.DISTILL).setTokenizerFingerprint(fingerprint())
                .setTeacherId("teacher-9").addSides(RenderedSide.newBuilder().setText("<|im_start|>assistant\nok<|im_end|>\n")).build();

        TokenizedRecord t = roundTrip("distill", in);

        assertThat(t.getTeacherId()).isEqualTo("teacher-9");
        assertThat(t.getSides(0).getIdsList()).startsWith(1).endsWith(2, 201);
    }
}
