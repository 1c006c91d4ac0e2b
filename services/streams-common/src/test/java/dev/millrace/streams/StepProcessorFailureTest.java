package dev.millrace.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.failure.ProcessingFailureHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What each kind of failure of a step on one record becomes (docs/failures.md): one dead letter with
 * its reason, and every other record comes out exactly once, in order; only Kafka's own exceptions
 * stop the stream.
 */
class StepProcessorFailureTest {
    private static final String IN = "in";
    private static final String OUT = "out";
    private static final String DLQ = "dlq";

    private SimpleMeterRegistry registry;
    private TopologyTestDriver driver;
    private TestInputTopic<String, byte[]> in;
    private TestOutputTopic<String, byte[]> out;
    private TestOutputTopic<String, byte[]> dlq;

    /** Upper-cases its input, or fails the way the input names. */
    static final class FailingStep extends StepProcessor {
        FailingStep(SimpleMeterRegistry registry) {
            super("test-step", Stage.SFT, registry);
        }

        @Override
        protected byte[] transform(String key, byte[] value, TopicOffset input) throws RecordRejected, InvalidProtocolBufferException {
            String text = new String(value, StandardCharsets.UTF_8);
            switch (text) {
                case "rejected" -> throw new RecordRejected(Reason.TEMPLATE_ERROR, "the template raised");
                case "malformed" -> throw new MalformedMessage("no messages");
                case "not-protobuf" -> throw new InvalidProtocolBufferException("truncated varint");
                case "bug" -> throw new IllegalArgumentException("index -1 out of range");
                case "null" -> throw new NullPointerException();
                case "deep" -> recurse(0);
                case "kafka" -> throw new KafkaException("the state store failed");
                case "producer-pending" -> throw producerPendingCommit();
                default -> {
                }
            }
            return text.toUpperCase().getBytes(StandardCharsets.UTF_8);
        }

        /**
         * What the producer throws (from a state store's changelog send) while a commit that timed out in a broker
         * outage must be retried: an IllegalStateException, not a KafkaException, thrown in Kafka's client.
         */
        private static IllegalStateException producerPendingCommit() {
            IllegalStateException e = new IllegalStateException(
                    "Cannot attempt operation `send` because the previous call to `commitTransaction` timed out and must be retried");
            e.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("org.apache.kafka.clients.producer.internals.TransactionManager", "throwIfPendingState", "TransactionManager.java", 1256),
                new StackTraceElement("org.apache.kafka.clients.producer.KafkaProducer", "doSend", "KafkaProducer.java", 1038)});
            return e;
        }

        private static int recurse(int depth) {
            return recurse(depth + 1) + 1;
        }
    }

    @BeforeEach
    void start() {
        registry = new SimpleMeterRegistry();
        Topology topology = new Topology();
        StepWiring.of(topology, Stage.SFT).source(IN).processor(() -> new FailingStep(registry)).output(OUT).deadLetters(DLQ);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, ProcessingFailureHandler.class.getName());
        driver = new TopologyTestDriver(topology, props);
        in = driver.createInputTopic(IN, Serdes.String().serializer(), Serdes.ByteArray().serializer());
        out = driver.createOutputTopic(OUT, Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
        dlq = driver.createOutputTopic(DLQ, Serdes.String().deserializer(), Serdes.ByteArray().deserializer());
    }

    @AfterEach
    void stop() {
        driver.close();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private List<String> outputs() {
        List<String> values = new ArrayList<>();
        for (KeyValue<String, byte[]> kv : out.readKeyValuesToList()) {
            values.add(kv.key + "=" + new String(kv.value, StandardCharsets.UTF_8));
        }
        return values;
    }

    private List<DeadLetter> deadLetters() throws Exception {
        List<DeadLetter> letters = new ArrayList<>();
        for (byte[] v : dlq.readValuesToList()) {
            letters.add(DeadLetter.parseFrom(v));
        }
        return letters;
    }

    private double deadLetterCount(Reason reason) {
        var counter = registry.find("millrace.dead.letters").tag("reason", reason.name()).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void eachFailureOnARecordIsOneDeadLetterWithItsReasonAndEveryOtherRecordComesOutOnce() throws Exception {
        String[] failures = {"rejected", "malformed", "not-protobuf", "bug", "null", "deep"};
        in.pipeInput("good-0", utf8("a"));
        for (int i = 0; i < failures.length; i++) {
            in.pipeInput("bad-" + i, utf8(failures[i]));
            in.pipeInput("good-" + (i + 1), utf8("r" + i));
        }

        assertThat(outputs()).containsExactly("good-0=A", "good-1=R0", "good-2=R1", "good-3=R2", "good-4=R3", "good-5=R4", "good-6=R5");
        List<DeadLetter> letters = deadLetters();
        assertThat(letters).extracting(DeadLetter::getReason).containsExactly("TEMPLATE_ERROR", "MALFORMED_MESSAGE", "MALFORMED_MESSAGE",
                "UNEXPECTED_ERROR", "UNEXPECTED_ERROR", "UNEXPECTED_ERROR");
        for (int i = 0; i < failures.length; i++) {
            DeadLetter letter = letters.get(i);
            assertThat(letter.getRecordId()).isEqualTo("bad-" + i);
            assertThat(letter.getOriginal().toByteArray()).isEqualTo(utf8(failures[i]));
            assertThat(letter.getService()).isEqualTo("test-step");
            assertThat(letter.getInput().getTopic()).isEqualTo(IN);
            assertThat(letter.getInput().getOffset()).isEqualTo(2L * i + 1);
        }
        assertThat(letters.get(1).getMessage()).isEqualTo("the message on in is malformed: no messages");
        assertThat(deadLetterCount(Reason.UNEXPECTED_ERROR)).isEqualTo(3.0);
        assertThat(deadLetterCount(Reason.MALFORMED_MESSAGE)).isEqualTo(2.0);
    }

    @Test
    void anUnexpectedExceptionIsNamedWithItsClassItsMessageAndWhereTheRecordWasRead() throws Exception {
        in.pipeInput("x", utf8("a"));
        in.pipeInput("bug", utf8("bug"));
        in.pipeInput("npe", utf8("null"));

        List<DeadLetter> letters = deadLetters();
        assertThat(letters.get(0).getMessage())
                .isEqualTo("unexpected java.lang.IllegalArgumentException on the message read from in-0@1: index -1 out of range");
        assertThat(letters.get(1).getMessage()).isEqualTo("unexpected java.lang.NullPointerException on the message read from in-0@2");
        assertThat(letters.get(0).getInput().getPartition()).isZero();
    }

    @Test
    void aMessageWithoutAValueIsMalformed() throws Exception {
        in.pipeInput("tombstone", (byte[]) null);
        in.pipeInput("next", utf8("b"));

        DeadLetter letter = deadLetters().get(0);
        assertThat(letter.getReason()).isEqualTo("MALFORMED_MESSAGE");
        assertThat(letter.getMessage()).endsWith("the message has no value (a tombstone)");
        assertThat(letter.getOriginal().isEmpty()).isTrue();
        assertThat(outputs()).containsExactly("next=B");
    }

    @Test
    void kafkasOwnExceptionsAreNotDeadLetteredButStopTheStream() throws Exception {
        assertThatThrownBy(() -> in.pipeInput("k", utf8("kafka"))).isInstanceOf(StreamsException.class)
                .hasRootCauseInstanceOf(KafkaException.class).hasRootCauseMessage("the state store failed");
        assertThat(deadLetters()).isEmpty();
        assertThat(out.isEmpty()).isTrue();
    }

    @Test
    void anExceptionThrownInsideKafkasProducerIsNotDeadLetteredButStopsTheStream() throws Exception {
        assertThatThrownBy(() -> in.pipeInput("k", utf8("producer-pending"))).isInstanceOf(StreamsException.class)
                .hasRootCauseInstanceOf(IllegalStateException.class).rootCause().hasMessageContaining("commitTransaction");
        assertThat(deadLetters()).as("a good record's dead letter could be committed with the retried transaction").isEmpty();
        assertThat(deadLetterCount(Reason.UNEXPECTED_ERROR)).isZero();
    }
}
