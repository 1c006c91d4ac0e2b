package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.prepare.SftOptions;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.TokenizedRecord;
import dev.millrace.proto.v1.TokenizedSide;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.proto.v1.WireStage;
import dev.millrace.streams.testing.MappedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The batcher on its own: rows equal core's, batches have exactly B rows, a quiet stream still flushes. */
class LossMaskTopologyTest {
    private static final int T = 64;
    private static final int B = 2;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> tokenized;
    private TestOutputTopic<String, byte[]> batches;
    private TestOutputTopic<String, byte[]> dlq;
    private TokenizerFolder folder;
    private SftPreparer preparer;

    @BeforeEach
    void start() throws Exception {
        LossMaskConfig config = MappedConfig.of(LossMaskConfig.class, Map.of("millrace.stages", "sft",
                "millrace.seq-len", String.valueOf(T), "millrace.batch-size", String.valueOf(B), "millrace.batch-linger-ms", "1000"));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("lossmask-test").toString());
        driver = new TopologyTestDriver(new LossMaskTopology().topology(config, new SimpleMeterRegistry()), props);
        tokenized = driver.createInputTopic("millrace.sft.tokenized", Serdes.String().serializer(), Serdes.ByteArray().serializer());
        batches = driver.createOutputTopic("millrace.sft.batches", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        dlq = driver.createOutputTopic("millrace.dlq", Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        folder = TokenizerFolder.bundled();
        preparer = new SftPreparer(folder, new SftOptions(Stage.SFT, T, null));
    }

    @AfterEach
    void stop() {
        driver.close();
        folder.close();
    }

    private TokenizedRecord record(String id, String text, String fingerprint) {
        TokenizedSide.Builder side = TokenizedSide.newBuilder().setAssistantMessages(1);
        for (int token : folder.tokenizer().ids(text)) {
            side.addIds(token);
        }
        return TokenizedRecord.newBuilder().setRecordId(id).setStage(WireStage.SFT).setTokenizerFingerprint(fingerprint)
                .setRaw(TopicOffset.newBuilder().setTopic("millrace.sft.raw").setPartition(0).setOffset(7)).addSides(side).build();
    }

    private static String chat(String user, String assistant) {
        return "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\n" + user
                + "<|im_end|>\n<|im_start|>assistant\n" + assistant + "<|im_end|>\n";
    }

    @Test
    void fullBatchesGoAtOnceAndAQuietStreamFlushesWithFillerRows() throws Exception {
        List<String> texts = List.of(chat("Hi", "Hello!"), chat("2+2?", "4"), chat("Capital of France?", "Paris."));
        for (int i = 0; i < texts.size(); i++) {
            tokenized.pipeInput("r" + i, record("r" + i, texts.get(i), folder.fingerprint()).toByteArray());
        }

        KeyValue<String, byte[]> first = batches.readKeyValue();
        assertThat(batches.isEmpty()).as("the third row waits for its batch to fill or linger").isTrue();
        Batch full = Batch.parseFrom(first.value);
        assertThat(first.key).isEqualTo(full.getBatchId()).isEqualTo("sft-p0-00000000");
        assertThat(full.getRowsCount()).isEqualTo(B);
        assertThat(full.getRealRows()).isEqualTo(B);
        assertThat(full.getSeqLen()).isEqualTo(T);
        assertThat(full.getTokenizerFingerprint()).isEqualTo(folder.fingerprint());
        for (int i = 0; i < B; i++) {
            assertRowIsCores(full.getRows(i), texts.get(i), "r" + i);
        }
        assertThat(full.getNonpadTokens()).isEqualTo(full.getRows(0).getNonpadTokens() + full.getRows(1).getNonpadTokens());

        driver.advanceWallClockTime(Duration.ofMillis(1500));

        Batch lingered = Batch.parseFrom(batches.readValue());
        assertThat(lingered.getBatchId()).isEqualTo("sft-p0-00000001");
        assertThat(lingered.getRowsCount()).isEqualTo(B);
        assertThat(lingered.getRealRows()).isEqualTo(1);
        assertRowIsCores(lingered.getRows(0), texts.get(2), "r2");
        BatchRow filler = lingered.getRows(1);
        assertThat(filler.getFiller()).isTrue();
        assertThat(filler.getInputIdsList()).hasSize(T).containsOnly(folder.padId());
        assertThat(RowCodec.unpackMask(filler.getLossMask(), T)).containsOnly(0);
        assertThat(filler.getRecordsList()).isEmpty();
        assertThat(dlq.isEmpty()).isTrue();
    }

    private void assertRowIsCores(BatchRow row, String text, String id) throws Exception {
        SftPreparer.Masked expected = preparer.mask(folder.tokenizer().ids(text), null);
        assertThat(RowCodec.ids(row)).containsExactly(expected.row().ids());
        assertThat(RowCodec.unpackMask(row.getLossMask(), T)).containsExactly(expected.row().mask());
        assertThat(row.getFiller()).isFalse();
        assertThat(row.getRecords(0).getRecordId()).isEqualTo(id);
        assertThat(row.getRecords(0).getRaw().getOffset()).isEqualTo(7);
        assertThat(row.getTrainedTokens()).isEqualTo(expected.row().trainedTokens());
    }

    @Test
    void untrainableAndForeignRecordsAreDeadLettersNotRows() throws Exception {
        String userOnly = "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\n" + "word ".repeat(80) + "<|im_end|>\n"
                + "<|im_start|>assistant\nok<|im_end|>\n";
        tokenized.pipeInput("long", record("long", userOnly, folder.fingerprint()).toByteArray());
        tokenized.pipeInput("foreign", record("foreign", chat("a", "b"), "0000000000000000").toByteArray());

        DeadLetter untrainable = DeadLetter.parseFrom(dlq.readValue());
        assertThat(untrainable.getReason()).isEqualTo("NO_TRAINABLE_TOKENS");
        assertThat(untrainable.getRecordId()).isEqualTo("long");
        assertThat(untrainable.getService()).isEqualTo("loss-mask");
        DeadLetter foreign = DeadLetter.parseFrom(dlq.readValue());
        assertThat(foreign.getReason()).isEqualTo("TOKENIZER_MISMATCH");
        driver.advanceWallClockTime(Duration.ofSeconds(5));
        assertThat(batches.isEmpty()).isTrue();
    }
}
