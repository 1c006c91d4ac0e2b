package dev.millrace.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.chat.Conversation;
import dev.millrace.core.chat.DpoPair;
import dev.millrace.core.prepare.PretrainPreparer;
import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.prepare.Wrap;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.WirePretrain;
import dev.millrace.streams.WireSpans;
import dev.millrace.streams.testing.TestRecords;
import dev.millrace.streams.testing.MappedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Arrays;
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

/** Every stage through the topology (TopologyTestDriver): ids equal core's (pretrain: the wrapped sequence). */
class TokenizeStagesTest {
    static final String DPO = "{\"prompt\": [{\"role\": \"user\", \"content\": \"2+2?\"}], \"chosen\": \"Yes, 4 世界.\", \"rejected\": \"No, 5.\"}";
    static final String DISTILL = "{\"messages\": [{\"role\": \"user\", \"content\": \"Name a colour.\"}, {\"role\": \"assistant\", \"content\": \"Blue.\"}]}";

    private TopologyTestDriver driver;
    private final Map<Stage, TestInputTopic<String, byte[]>> templated = new EnumMap<>(Stage.class);
    private final Map<Stage, TestOutputTopic<String, byte[]>> tokenized = new EnumMap<>(Stage.class);
    private TestOutputTopic<String, byte[]> dlq;
    private TokenizerFolder folder;

    @BeforeEach
    void start() throws Exception {
        TokenizeConfig config = MappedConfig.of(TokenizeConfig.class, Map.of("millrace.stages", "pretrain,sft,dpo,distill"));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(new TokenizeTopology().topology(config, new SimpleMeterRegistry()), props);
        for (Stage s : Stage.values()) {
            templated.put(s, driver.createInputTopic("millrace." + s.id() + ".templated", Serdes.String().serializer(), Serdes.ByteArray().serializer()));
            tokenized.put(s, driver.createOutputTopic("millrace." + s.id() + ".tokenized", Serdes.String().deserializer(), Serdes.ByteArray().deserializer()));
        }
        dlq = driver.createOutputTopic("millrace.dlq", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        folder = TokenizerFolder.bundled();
    }

    @AfterEach
    void stop() {
        driver.close();
        folder.close();
    }

    /** A pretrain record as chat-template writes it: one side, the text as given. */
    static TemplatedRecord pretrain(String id, String text, String fingerprint) {
        return TemplatedRecord.newBuilder().setRecordId(id).setStage(WireStage.PRETRAIN)
                .setTokenizerFingerprint(fingerprint).addSides(WirePretrain.side(text)).build();
    }

    /** A DPO record as chat-template writes it: both sides rendered by core, chosen first. */
    static TemplatedRecord dpo(String id, TokenizerFolder folder) throws Exception {
        DpoPair pair = (DpoPair) TestRecords.parsed(Stage.DPO, DPO);
        SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DPO, 2, null));
        return TemplatedRecord.newBuilder().setRecordId(id).setStage(WireStage.DPO)
                .setTokenizerFingerprint(folder.fingerprint())
                .addSides(WireSpans.side(core.template(pair.chosen()), 1))
                .addSides(WireSpans.side(core.template(pair.rejected()), 1)).build();
    }

    private static List<Integer> boxed(int[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }

    private TokenizedRecord tokenize(Stage stage, TemplatedRecord in) throws Exception {
        templated.get(stage).pipeInput(in.getRecordId(), in.toByteArray());
        return TokenizedRecord.parseFrom(tokenized.get(stage).readValue());
    }

    @Test
    void aPretrainTextBecomesItsWrappedSequenceAsCoreWrapsIt() throws Exception {
        PretrainPreparer core = new PretrainPreparer(folder, 2, null, Wrap.AUTO);
        for (String text : List.of("Hello 世界, a text.", "<|im_start|>already opened", "already closed<|im_end|>", "")) {
            TokenizedRecord out = tokenize(Stage.PRETRAIN, pretrain("p", text, folder.fingerprint()));

            PretrainPreparer.Wrapped expected = core.wrap(text);
            assertThat(out.getSidesList()).as(text).hasSize(1);
            TokenizedSide side = out.getSides(0);
            assertThat(side.getIdsList()).as(text).isEqualTo(boxed(expected.ids()));
            assertThat(side.getEosAdded()).as(text).isEqualTo(expected.eosAdded());
            assertThat(side.getAssistantTokenSpansKnown()).isFalse();
            assertThat(side.getAssistantTokenSpansList()).isEmpty();
        }
        // auto wrap: bos and eos added where the text lacks them, so the ids differ from the bare encoding
        TokenizedRecord plain = tokenize(Stage.PRETRAIN, pretrain("p", "Hello", folder.fingerprint()));
        assertThat(plain.getSides(0).getIdsList()).startsWith(folder.bosId()).endsWith(folder.eosId())
                .hasSize(folder.tokenizer().ids("Hello").length + 2);
        assertThat(plain.getSides(0).getEosAdded()).isTrue();
        assertThat(plain.getStage()).isEqualTo(WireStage.PRETRAIN);
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void bothSidesOfADpoPairAreTokenizedLikeCoreChosenFirst() throws Exception {
        TemplatedRecord in = dpo("d", folder);
        TokenizedRecord out = tokenize(Stage.DPO, in);

        SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DPO, 2, null));
        assertThat(out.getSidesList()).hasSize(2);
        for (int i = 0; i < 2; i++) {
            SftPreparer.Tokenized expected = core.tokenize(in.getSides(i).getText(), WireSpans.textSpans(in.getSides(i)));
            TokenizedSide side = out.getSides(i);
            assertThat(side.getIdsList()).isEqualTo(boxed(expected.ids()));
            assertThat(expected.assistantTokenSpans()).isNotEmpty();
            assertThat(WireSpans.tokenSpans(side)).isEqualTo(expected.assistantTokenSpans());
            assertThat(side.getAssistantMessages()).isEqualTo(1);
            assertThat(side.getEosAdded()).isFalse();
        }
        assertThat(out.getSides(0).getIdsList()).isNotEqualTo(out.getSides(1).getIdsList());
        assertThat(out.getStage()).isEqualTo(WireStage.DPO);
    }

    @Test
    void aDistillAnswerIsTokenizedLikeSftAndKeepsItsTeacherId() throws Exception {
        SftPreparer core = new SftPreparer(folder, new SftOptions(Stage.DISTILL, 2, null));
        SftPreparer.TemplatedConversation rendered = core.template((Conversation) TestRecords.parsed(Stage.DISTILL, DISTILL));
        TemplatedRecord in = TemplatedRecord.newBuilder().setRecordId("t").setStage(StageCodec.toWire(Stage.DISTILL))
                .setTokenizerFingerprint(folder.fingerprint()).setTeacherId("teacher-3").addSides(WireSpans.side(rendered, 1)).build();

        TokenizedRecord out = tokenize(Stage.DISTILL, in);

        SftPreparer.Tokenized expected = core.tokenize(rendered);
        assertThat(out.getSides(0).getIdsList()).isEqualTo(boxed(expected.ids()));
        assertThat(WireSpans.tokenSpans(out.getSides(0))).isEqualTo(expected.assistantTokenSpans());
        assertThat(out.getTeacherId()).isEqualTo("teacher-3");
    }

    @Test
    void aDpoRecordWithOneSideIsAMalformedMessage() throws Exception {
        TemplatedRecord full = dpo("half", folder);
        TemplatedRecord half = full.toBuilder().removeSides(1).build();
        templated.get(Stage.DPO).pipeInput("half", half.toByteArray());

        DeadLetter dead = DeadLetter.parseFrom(dlq.readValue());
        assertThat(dead.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(dead.getMessage()).contains("2 sides (chosen, then rejected), this one has 1");
        assertThat(tokenized.get(Stage.DPO).isEmpty()).isTrue();
    }

    @Test
    void aPairOrATextRenderedForAnotherTokenizerIsATokenizerMismatch() throws Exception {
        TemplatedRecord pair = dpo("d", folder).toBuilder().setTokenizerFingerprint("0123456789abcdef").build();
        templated.get(Stage.DPO).pipeInput("d", pair.toByteArray());
        templated.get(Stage.PRETRAIN).pipeInput("p", pretrain("p", "text", "0123456789abcdef").toByteArray());

        List<DeadLetter> letters = dlq.readValuesToList().stream().map(v -> {
            try {
                return DeadLetter.parseFrom(v);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }).toList();
        assertThat(letters).extracting(DeadLetter::getReason).containsExactly("TOKENIZER_MISMATCH", "TOKENIZER_MISMATCH");
        assertThat(letters).extracting(DeadLetter::getRecordId).containsExactly("d", "p");
        assertThat(tokenized.get(Stage.DPO).isEmpty()).isTrue();
        assertThat(tokenized.get(Stage.PRETRAIN).isEmpty()).isTrue();
    }
}
