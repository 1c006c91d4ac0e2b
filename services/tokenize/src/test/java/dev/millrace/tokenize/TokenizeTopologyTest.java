package dev.millrace.tokenize;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RenderedSide;
import dev.millrace.proto.v1.TemplatedRecord;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.testing.MappedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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

/** The topology on its own: ids are the DJL tokenizer's, a foreign tokenizer fingerprint is a dead letter. */
class TokenizeTopologyTest {
    private static final String TEXT = "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello 世界<|im_end|>\n";
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> templated;
    private TestOutputTopic<String, byte[]> tokenized;
    private TestOutputTopic<String, byte[]> dlq;
    private TokenizerFolder folder;

    @BeforeEach
    void start() throws Exception {
        TokenizeConfig config = MappedConfig.of(TokenizeConfig.class, Map.of("millrace.stages", "sft"));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(new TokenizeTopology().topology(config, new SimpleMeterRegistry()), props);
        templated = driver.createInputTopic("millrace.sft.templated", Serdes.String().serializer(), Serdes.ByteArray().serializer());
        tokenized = driver.createOutputTopic("millrace.sft.tokenized", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        dlq = driver.createOutputTopic("millrace.dlq", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        folder = TokenizerFolder.bundled();
    }

    @AfterEach
    void stop() {
        driver.close();
        folder.close();
    }

    private TemplatedRecord record(String id, String fingerprint) {
        return TemplatedRecord.newBuilder().setRecordId(id).setStage(WireStage.SFT).setTokenizerFingerprint(fingerprint)
                .addSides(RenderedSide.newBuilder().setText(TEXT).setAssistantMessages(1)).addWarnings("SPECIAL_TOKEN_IN_CONTENT").build();
    }

    @Test
    void encodesTheWholeTextWithTheTokenizer() throws Exception {
        templated.pipeInput("r1", record("r1", folder.fingerprint()).toByteArray());

        TokenizedRecord out = TokenizedRecord.parseFrom(tokenized.readValue());
        int[] expected = folder.tokenizer().ids(TEXT);
        assertThat(out.getSides(0).getIdsList()).containsExactly(java.util.Arrays.stream(expected).boxed().toArray(Integer[]::new));
        assertThat(out.getSides(0).getIds(0)).isEqualTo(1);
        assertThat(out.getWarningsList()).containsExactly("SPECIAL_TOKEN_IN_CONTENT");
        assertThat(out.getTokenizerFingerprint()).isEqualTo(folder.fingerprint());
        assertThat(dlq.isEmpty()).isTrue();
    }

    @Test
    void textRenderedForAnotherTokenizerIsATokenizerMismatchDeadLetter() throws Exception {
        byte[] foreign = record("r2", "0123456789abcdef").toByteArray();
        templated.pipeInput("r2", foreign);

        DeadLetter dead = DeadLetter.parseFrom(dlq.readValue());
        assertThat(dead.getReason()).isEqualTo("TOKENIZER_MISMATCH");
        assertThat(dead.getRecordId()).isEqualTo("r2");
        assertThat(dead.getOriginal().toByteArray()).isEqualTo(foreign);
        assertThat(tokenized.isEmpty()).isTrue();
    }
}
