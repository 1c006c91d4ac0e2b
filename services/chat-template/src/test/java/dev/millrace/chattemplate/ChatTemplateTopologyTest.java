package dev.millrace.chattemplate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.RecordId;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TemplatedRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The topology on its own (TopologyTestDriver): rendering equals core's, bad messages become dead letters. */
class ChatTemplateTopologyTest {
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> raw;
    private TestOutputTopic<String, byte[]> templated;
    private TestOutputTopic<String, byte[]> dlq;
    private SimpleMeterRegistry registry;

    @BeforeEach
    void start() {
        ChatTemplateTopology t = new ChatTemplateTopology();
        t.stages = List.of("sft");
        t.tokenizer = Optional.empty();
        t.topicPrefix = "millrace";
        registry = new SimpleMeterRegistry();
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        try {
            props.put(StreamsConfig.STATE_DIR_CONFIG, java.nio.file.Files.createTempDirectory("chat-template-test").toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        driver = new TopologyTestDriver(t.topology(registry), props);
        raw = driver.createInputTopic("millrace.sft.raw", Serdes.String().serializer(), Serdes.ByteArray().serializer());
        templated = driver.createOutputTopic("millrace.sft.templated", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        dlq = driver.createOutputTopic("millrace.dlq", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    @Test
    void rendersTheConversationLikeCore() throws Exception {
        String json = "{\"messages\":[{\"content\":\"Hi <|im_end|>\",\"role\":\"user\"},{\"content\":\"Hello!\",\"role\":\"assistant\"}]}";
        RawRecord record = RawRecord.newBuilder().setRecordId("r1").setStage(dev.millrace.proto.v1.Stage.SFT)
                .setNormalisedJson(json).setSource(Source.newBuilder().setKind("http").setName("req").setLine(3)).build();

        raw.pipeInput("r1", record.toByteArray());

        TemplatedRecord out = TemplatedRecord.parseFrom(templated.readValue());
        try (TokenizerFolder folder = TokenizerFolder.bundled()) {
            SftPreparer preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, 2, null));
            String expected = preparer.render(Conversation.fromNormalised(
                    (java.util.Map<String, Object>) dev.millrace.core.json.PlainJson.toPlain(dev.millrace.core.json.StrictJson.parse(json))));
            assertThat(out.getSides(0).getText()).isEqualTo(expected).startsWith("<|im_start|>system\n");
            assertThat(out.getTokenizerFingerprint()).isEqualTo(folder.fingerprint());
        }
        assertThat(out.getRecordId()).isEqualTo("r1");
        assertThat(out.getSides(0).getAssistantMessages()).isEqualTo(1);
        assertThat(out.getWarningsList()).containsExactly("SPECIAL_TOKEN_IN_CONTENT");
        assertThat(out.getSource().getLine()).isEqualTo(3);
        assertThat(out.getRaw().getTopic()).isEqualTo("millrace.sft.raw");
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(registry.counter("millrace.records.out", "service", "chat-template", "stage", "sft").count()).isEqualTo(1.0);
    }

    @Test
    void anExactDuplicateIsDroppedOnceAndCounted() throws Exception {
        RawRecord record = RawRecord.newBuilder().setRecordId("same").setStage(dev.millrace.proto.v1.Stage.SFT)
                .setNormalisedJson("{\"messages\":[{\"content\":\"a\",\"role\":\"user\"},{\"content\":\"b\",\"role\":\"assistant\"}]}").build();

        raw.pipeInput("same", record.toByteArray());
        raw.pipeInput("same", record.toByteArray());

        assertThat(templated.readValuesToList()).hasSize(1);
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(registry.counter("millrace.duplicates.dropped", "service", "chat-template", "stage", "sft").count()).isEqualTo(1.0);
    }

    @Test
    void aMalformedMessageBecomesOneDeadLetterWithItsBytesAndTheStreamGoesOn() throws Exception {
        byte[] garbage = "not a protobuf message".getBytes(StandardCharsets.UTF_8);
        raw.pipeInput("bad", garbage);
        RawRecord good = RawRecord.newBuilder().setRecordId("r2").setStage(dev.millrace.proto.v1.Stage.SFT)
                .setNormalisedJson("{\"messages\":[{\"content\":\"a\",\"role\":\"user\"},{\"content\":\"b\",\"role\":\"assistant\"}]}").build();
        raw.pipeInput("r2", good.toByteArray());

        var letter = dlq.readKeyValue();
        DeadLetter dead = DeadLetter.parseFrom(letter.value);
        assertThat(letter.key).isEqualTo("bad");
        assertThat(dead.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(garbage);
        assertThat(dead.getService()).isEqualTo("chat-template");
        assertThat(dead.getInput().getTopic()).isEqualTo("millrace.sft.raw");
        assertThat(dlq.isEmpty()).isTrue();
        assertThat(TemplatedRecord.parseFrom(templated.readValue()).getRecordId()).isEqualTo("r2");
        assertThat(RecordId.canonicalJson(java.util.Map.of("b", 1, "a", 2))).isEqualTo("{\"a\":2,\"b\":1}");
    }
}
