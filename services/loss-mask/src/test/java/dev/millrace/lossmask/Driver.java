package dev.millrace.lossmask;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.testing.MappedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The loss-mask topology under a {@link TopologyTestDriver} for the given stages and settings;
 * T = 64, batch linger 1 s, pack linger 500 ms, bundled tokenizer ({@link #folder}: the same folder).
 */
final class Driver implements AutoCloseable {
    static final int T = 64;
    static final Duration LINGER = Duration.ofMillis(1000);
    static final Duration PACK_LINGER = Duration.ofMillis(500);
    static final TopicOffset RAW = TopicOffset.newBuilder().setTopic("millrace.x.raw").setPartition(1).setOffset(7).build();

    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final TokenizerFolder folder;
    private final TopologyTestDriver driver;

    /** @param config further settings ({@code millrace.sft.packing}, ...), over the ones above */
    Driver(List<Stage> stages, int batchSize, Map<String, String> config) {
        Map<String, String> values = new HashMap<>(Map.of(
                "millrace.stages", stages.stream().map(Stage::id).collect(Collectors.joining(",")),
                "millrace.seq-len", String.valueOf(T),
                "millrace.batch-size", String.valueOf(batchSize),
                "millrace.batch-linger-ms", String.valueOf(LINGER.toMillis()),
                "millrace.pack-linger-ms", String.valueOf(PACK_LINGER.toMillis())));
        values.putAll(config);
        LossMaskConfig lossMask = MappedConfig.of(LossMaskConfig.class, values);
        try {
            folder = TokenizerFolder.bundled();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("lossmask-test").toString());
            driver = new TopologyTestDriver(new LossMaskTopology().topology(lossMask, registry), props);
        } catch (IOException e) {
            folder.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            folder.close();
            throw e;
        }
    }

    void send(Stage stage, String key, byte[] value) {
        TestInputTopic<String, byte[]> in = driver.createInputTopic(Topics.DEFAULT.tokenized(stage),
                Serdes.String().serializer(), Serdes.ByteArray().serializer());
        in.pipeInput(key, value);
    }

    void advance(Duration d) {
        driver.advanceWallClockTime(d);
    }

    List<Batch> batches(Stage stage) throws Exception {
        TestOutputTopic<String, byte[]> out = driver.createOutputTopic(Topics.DEFAULT.batches(stage),
                Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        List<Batch> batches = new ArrayList<>();
        for (var kv : out.readKeyValuesToList()) {
            Batch b = Batch.parseFrom(kv.value);
            if (!kv.key.equals(b.getBatchId())) {
                throw new AssertionError("batch " + b.getBatchId() + " sent under key " + kv.key);
            }
            batches.add(b);
        }
        return batches;
    }

    /** What the stage's open-batch store wrote to its changelog since the last call (null values: deletes). */
    List<KeyValue<String, byte[]>> changelog(Stage stage) {
        TestOutputTopic<String, byte[]> out = driver.createOutputTopic("test-" + BatchingProcessor.storeName(stage) + "-changelog",
                Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        return out.readKeyValuesToList();
    }

    /** The stage's open-batch state store (the task's, partition 0). */
    KeyValueStore<String, byte[]> store(Stage stage) {
        return driver.getKeyValueStore(BatchingProcessor.storeName(stage));
    }

    List<DeadLetter> deadLetters() throws Exception {
        TestOutputTopic<String, byte[]> out = driver.createOutputTopic(Topics.DEFAULT.dlq(),
                Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        List<DeadLetter> letters = new ArrayList<>();
        for (byte[] v : out.readValuesToList()) {
            letters.add(DeadLetter.parseFrom(v));
        }
        return letters;
    }

    @Override
    public void close() {
        driver.close();
        folder.close();
    }
}
