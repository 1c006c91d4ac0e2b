package dev.millrace.chattemplate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.DpoPair;
import dev.millrace.core.chat.TextRecord;
import dev.millrace.core.json.RawLine;
import dev.millrace.core.prepare.DpoPreparer;
import dev.millrace.core.prepare.Prepared;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.WireSpans;
import dev.millrace.streams.testing.MappedConfig;
import dev.millrace.streams.testing.TestRecords;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every stage through the topology (TopologyTestDriver): each record's sides equal what core's preparers render. */
class ChatTemplateStagesTest {
    static final String PRETRAIN = "{\"text\": \"Once upon a time <|im_end|> 世界 \"}";
    static final String DPO = "{\"system\": \"Be brief.\", \"prompt\": [{\"role\": \"user\", \"content\": \"2+2?\"}, "
            + "{\"role\": \"assistant\", \"content\": \"Four?\"}, {\"role\": \"user\", \"content\": \"Sure?\"}], "
            + "\"chosen\": \"Yes, 4.\", \"rejected\": \"No, 5.\"}";
    /** The rejected reply is a list of content parts: the bundled template adds it to a string, a template error. */
    static final String DPO_BAD_REJECTED = "{\"chosen\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}], "
            + "\"rejected\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": [{\"type\": \"text\", \"text\": \"go away\"}]}]}";
    static final String DISTILL = "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a colour.\"}, "
            + "{\"role\": \"assistant\", \"content\": \"Blue.\"}]}";

    private TopologyTestDriver driver;
    private final Map<Stage, TestInputTopic<String, byte[]>> raw = new EnumMap<>(Stage.class);
    private final Map<Stage, TestOutputTopic<String, byte[]>> templated = new EnumMap<>(Stage.class);
    private TestOutputTopic<String, byte[]> dlq;
    private SimpleMeterRegistry registry;
    private TokenizerFolder folder;

    @BeforeEach
    void start() throws IOException {
        ChatTemplateConfig config = MappedConfig.of(ChatTemplateConfig.class, Map.of("millrace.stages", "pretrain,sft,dpo,distill"));
        registry = new SimpleMeterRegistry();
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("chat-template-stages").toString());
        driver = new TopologyTestDriver(new ChatTemplateTopology().topology(config, registry), props);
        for (Stage s : Stage.values()) {
            raw.put(s, driver.createInputTopic("millrace." + s.id() + ".raw", Serdes.String().serializer(), Serdes.ByteArray().serializer()));
            templated.put(s, driver.createOutputTopic("millrace." + s.id() + ".templated", Serdes.String().deserializer(), Serdes.ByteArray().deserializer()));
        }
        dlq = driver.createOutputTopic("millrace.dlq", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        folder = TokenizerFolder.bundled();
    }

    @AfterEach
    void stop() {
        driver.close();
        folder.close();
    }

    private void send(RawRecord record) {
        raw.get(Stage.valueOf(record.getStage().name())).pipeInput(record.getRecordId(), record.toByteArray());
    }

    @Test
    void aPretrainTextIsOneSideWithTheTextAsGivenAndNoSpans() throws Exception {
        RawRecord record = TestRecords.raw(Stage.PRETRAIN, PRETRAIN);
        send(record);

        TemplatedRecord out = TemplatedRecord.parseFrom(templated.get(Stage.PRETRAIN).readValue());
        String text = ((TextRecord) TestRecords.parsed(Stage.PRETRAIN, PRETRAIN)).text();
        assertThat(out.getSidesList()).hasSize(1);
        RenderedSide side = out.getSides(0);
        assertThat(side.getText()).isEqualTo(text).isEqualTo("Once upon a time <|im_end|> 世界 ");
        assertThat(side.getAssistantSpansKnown()).isFalse();
        assertThat(side.getAssistantSpansList()).isEmpty();
        assertThat(side.getAssistantMessages()).isZero();
        assertThat(out.getWarningsList()).isEmpty();
        assertThat(out.getRecordId()).isEqualTo(record.getRecordId());
        assertThat(out.getStage()).isEqualTo(WireStage.PRETRAIN);
        assertThat(out.getTokenizerFingerprint()).isEqualTo(folder.fingerprint());
        assertThat(out.getRaw().getTopic()).isEqualTo("millrace.pretrain.raw");
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void aDpoPairIsTwoSidesChosenFirstEachRenderedLikeCore() throws Exception {
        RawRecord record = TestRecords.raw(Stage.DPO, DPO);
        send(record);

        TemplatedRecord out = TemplatedRecord.parseFrom(templated.get(Stage.DPO).readValue());
        DpoPair pair = (DpoPair) TestRecords.parsed(Stage.DPO, DPO);
        SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DPO, 2, null));
        assertThat(out.getSidesList()).hasSize(2);
        assertSideEquals(out.getSides(0), core.template(pair.chosen()), 2);
        assertSideEquals(out.getSides(1), core.template(pair.rejected()), 2);
        assertThat(out.getSides(0).getText()).endsWith("Yes, 4.<|im_end|>\n");
        assertThat(out.getSides(1).getText()).endsWith("No, 5.<|im_end|>\n");
        assertThat(out.getRecordId()).isEqualTo(record.getRecordId());
        assertThat(out.getStage()).isEqualTo(WireStage.DPO);
        assertThat(dlq.isEmpty()).isTrue();
    }

    private static void assertSideEquals(RenderedSide side, SftPreparer.TemplatedConversation expected, int assistantMessages) {
        assertThat(side.getText()).isEqualTo(expected.text());
        assertThat(expected.assistantSpans()).as("the bundled template is prefix-consistent").isNotEmpty();
        assertThat(WireSpans.textSpans(side)).isEqualTo(expected.assistantSpans());
        assertThat(side.getAssistantMessages()).isEqualTo(assistantMessages);
    }

    @Test
    void aDpoPairWhoseRejectedSideFailsToRenderIsOneDeadLetterNamingTheSide() throws Exception {
        RawRecord record = TestRecords.raw(Stage.DPO, DPO_BAD_REJECTED);
        send(record);

        List<org.apache.kafka.streams.test.TestRecord<String, byte[]>> letters = dlq.readRecordsToList();
        assertThat(letters).hasSize(1);
        DeadLetter dead = DeadLetter.parseFrom(letters.get(0).value());
        // prepare runs every step of the chosen side first: with room to train it, the rejected side fails
        Prepared.Rejected expected = (Prepared.Rejected) new DpoPreparer(new SftPreparer(folder, new SftOptions(Stage.DPO, 512, null)))
                .prepare(new RawLine(1, DPO_BAD_REJECTED.getBytes(StandardCharsets.UTF_8)));
        assertThat(dead.getReason()).isEqualTo(expected.reason().name()).isEqualTo("TEMPLATE_ERROR");
        assertThat(dead.getMessage()).isEqualTo(expected.message()).startsWith("rejected: ");
        assertThat(letters.get(0).key()).isEqualTo(record.getRecordId());
        assertThat(dead.getRecordId()).isEqualTo(record.getRecordId());
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(record.toByteArray());
        assertThat(dead.getService()).isEqualTo("chat-template");
        assertThat(dead.getStage()).isEqualTo(WireStage.DPO);
        assertThat(templated.get(Stage.DPO).isEmpty()).isTrue();
    }

    @Test
    void aDistillAnswerIsRenderedLikeSftAndKeepsItsTeacherId() throws Exception {
        RawRecord record = TestRecords.raw(Stage.DISTILL, DISTILL, "teacher-dpo-7");
        send(record);

        TemplatedRecord out = TemplatedRecord.parseFrom(templated.get(Stage.DISTILL).readValue());
        SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DISTILL, 2, null));
        assertThat(out.getSidesList()).hasSize(1);
        assertSideEquals(out.getSides(0), core.template((Conversation) TestRecords.parsed(Stage.DISTILL, DISTILL)), 1);
        assertThat(out.getTeacherId()).isEqualTo("teacher-dpo-7");
        assertThat(out.getStage()).isEqualTo(WireStage.DISTILL);
        assertThat(templated.get(Stage.SFT).isEmpty()).isTrue();
    }

    @Test
    void duplicatesOfADpoPairAndOfAPretrainTextAreDroppedPerStage() throws Exception {
        RawRecord pair = TestRecords.raw(Stage.DPO, DPO);
        RawRecord text = TestRecords.raw(Stage.PRETRAIN, PRETRAIN);
        send(pair);
        send(text);
        send(pair);
        send(text);

        assertThat(templated.get(Stage.DPO).readValuesToList()).hasSize(1);
        assertThat(templated.get(Stage.PRETRAIN).readValuesToList()).hasSize(1);
        assertThat(dlq.isEmpty()).isTrue();
        for (Stage s : List.of(Stage.DPO, Stage.PRETRAIN)) {
            assertThat(registry.counter("millrace.duplicates.dropped", "service", "chat-template", "stage", s.id()).count())
                    .as(s.id()).isEqualTo(1.0);
        }
    }

    @Test
    void aRecordOfAnotherStagesShapeIsAMalformedMessage() throws Exception {
        RawRecord conversation = TestRecords.raw(Stage.SFT, DISTILL).toBuilder().setStage(WireStage.PRETRAIN).build();
        raw.get(Stage.PRETRAIN).pipeInput(conversation.getRecordId(), conversation.toByteArray());

        DeadLetter dead = DeadLetter.parseFrom(dlq.readValue());
        assertThat(dead.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(dead.getMessage()).contains("\"text\"");
        assertThat(templated.get(Stage.PRETRAIN).isEmpty()).isTrue();
    }
}
