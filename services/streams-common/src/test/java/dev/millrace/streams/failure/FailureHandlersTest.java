package dev.millrace.streams.failure;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.DisconnectException;
import org.apache.kafka.common.errors.NetworkException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler.DeserializationHandlerResponse;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler.ProcessingHandlerResponse;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.ProductionExceptionHandlerResponse;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.SerializationExceptionOrigin;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Record;
import org.junit.jupiter.api.Test;

/** The Kafka Streams handlers every step service configures (docs/failures.md). */
class FailureHandlersTest {

    /** Where a failure happened, as Kafka Streams tells a handler. */
    private record Where(String topic, int partition, long offset) implements ErrorHandlerContext {
        @Override
        public Headers headers() {
            return new RecordHeaders();
        }

        @Override
        public String processorNodeId() {
            return "sft-step";
        }

        @Override
        public TaskId taskId() {
            return new TaskId(0, partition);
        }

        @Override
        public long timestamp() {
            return 0L;
        }

        @Override
        public byte[] sourceRawKey() {
            return new byte[0];
        }

        @Override
        public byte[] sourceRawValue() {
            return new byte[0];
        }
    }

    private static final ErrorHandlerContext CONTEXT = new Where("millrace.sft.raw", 0, 7L);

    @Test
    void anExceptionThatEscapesAStepFailsTheThreadRatherThanSkipTheRecord() {
        assertThat(new ProcessingFailureHandler().handle(CONTEXT, new Record<>("k", "v", 0L), new IllegalStateException("store unreadable")))
                .isEqualTo(ProcessingHandlerResponse.FAIL);
    }

    @Test
    void aMessageThatCannotBeDeserializedFailsTheThreadRatherThanSkipIt() {
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>("millrace.sft.raw", 0, 7L, new byte[0], new byte[0]);
        assertThat(new DeserializationFailureHandler().handle(CONTEXT, record, new SerializationException("bad")))
                .isEqualTo(DeserializationHandlerResponse.FAIL);
    }

    @Test
    void aSendIsRetriedWhenRetriableAndOtherwiseFailsTheThreadRatherThanDropTheRecord() {
        ProductionFailureHandler handler = new ProductionFailureHandler();
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>("millrace.sft.templated", new byte[1], new byte[2_000_000]);
        assertThat(handler.handle(CONTEXT, record, new TimeoutException("no broker"))).isEqualTo(ProductionExceptionHandlerResponse.RETRY);
        assertThat(handler.handle(CONTEXT, record, new RecordTooLargeException("too large"))).isEqualTo(ProductionExceptionHandlerResponse.FAIL);
        assertThat(handler.handleSerializationException(CONTEXT, record, new SerializationException("bad"), SerializationExceptionOrigin.VALUE))
                .isEqualTo(ProductionExceptionHandlerResponse.FAIL);
    }

    @Test
    void aFailedThreadIsReplacedUntilItFailsTooOftenWithinTheWindowThenTheClientShutsDown() {
        AtomicLong now = new AtomicLong(1_000_000);
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(new SimpleMeterRegistry(), 3, Duration.ofMinutes(10), now::get, ms -> { });
        StreamsException failure = new StreamsException("task failed", new IllegalStateException("store unreadable"));

        for (int i = 0; i < 3; i++) {
            assertThat(handler.handle(failure)).as("failure %d", i + 1).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
            now.addAndGet(Duration.ofMinutes(1).toMillis());
        }
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }

    @Test
    void replacementsOlderThanTheWindowNoLongerCount() {
        AtomicLong now = new AtomicLong(1_000_000);
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(new SimpleMeterRegistry(), 2, Duration.ofMinutes(10), now::get, ms -> { });
        StreamsException failure = new StreamsException("store unreadable");

        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        now.addAndGet(Duration.ofMinutes(10).toMillis());
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }

    @Test
    void aThreadTheBrokersAbsenceFailedIsReplacedHoweverOftenWithoutUsingUpTheCrashLimit() {
        AtomicLong now = new AtomicLong(1_000_000);
        List<Long> waits = new ArrayList<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(registry, 2, Duration.ofMinutes(10), now::get, waits::add);
        // what a send that found no metadata within max.block.ms, and a task out of task.timeout.ms, become
        StreamsException noMetadata = new StreamsException("Error encountered sending record to topic millrace.sft.tokenized",
                new TimeoutException("Topic millrace.sft.tokenized not present in metadata after 60000 ms."));
        StreamsException noProgress = new StreamsException("Task 0_0 did not make progress within 300000 ms",
                new TimeoutException("Timeout expired after 60000ms while awaiting InitProducerId"));

        for (int i = 0; i < 20; i++) {
            assertThat(handler.handle(i % 2 == 0 ? noMetadata : noProgress)).as("broker-away failure %d", i + 1)
                    .isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
            now.addAndGet(Duration.ofSeconds(10).toMillis());
        }
        assertThat(waits).as("the back-off before each replacement: doubling from 1 s, at most 10 s")
                .startsWith(1_000L, 2_000L, 4_000L, 8_000L, 10_000L).allMatch(ms -> ms <= 10_000L).hasSize(20);

        StreamsException other = new StreamsException("task failed", new IllegalStateException("store unreadable"));
        assertThat(handler.handle(other)).as("the crash limit is untouched by the outage").isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(other)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(other)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
        assertThat(registry.get("millrace.stream.thread.replacements").tag("cause", "broker_away").counter().count()).isEqualTo(20);
        assertThat(registry.get("millrace.stream.thread.replacements").tag("cause", "other").counter().count())
                .as("the replacements the crash limit counts (not the shutdown)").isEqualTo(2);
    }

    @Test
    void theBackOffStartsOverOnceTheLastBrokerAwayFailureIsOlderThanTheWindow() {
        AtomicLong now = new AtomicLong(1_000_000);
        List<Long> waits = new ArrayList<>();
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(new SimpleMeterRegistry(), 5, Duration.ofMinutes(10), now::get, waits::add);
        StreamsException away = new StreamsException("commit failed", new DisconnectException("connection lost"));
        handler.handle(away);
        handler.handle(away);
        now.addAndGet(Duration.ofMinutes(10).toMillis());
        handler.handle(away);
        assertThat(waits).containsExactly(1_000L, 2_000L, 1_000L);
    }

    @Test
    void onlyATimeoutOrALostConnectionInTheCauseChainIsTheBrokersAbsence() {
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", new StreamsException("y", new TimeoutException("t")))))
                .isInstanceOf(TimeoutException.class);
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", new NetworkException("n")))).isInstanceOf(NetworkException.class);
        IllegalStateException pendingCommit = new IllegalStateException(
                "Cannot attempt operation `send` because the previous call to `commitTransaction` timed out and must be retried");
        pendingCommit.setStackTrace(new StackTraceElement[] {
            new StackTraceElement("org.apache.kafka.clients.producer.internals.TransactionManager", "throwIfPendingState", null, 1256)});
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", pendingCommit))).isSameAs(pendingCommit);
        KafkaException unacknowledged = new KafkaException("The client hasn't received acknowledgment for some previously sent messages and "
                + "can no longer retry them. It is safe to abort the transaction and continue.");
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("Error encountered trying to commit a transaction",
                new KafkaException("Cannot execute transactional method because we are in an error state", unacknowledged))))
                .as("sends the broker never acknowledged within delivery.timeout.ms").isSameAs(unacknowledged);
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", new KafkaException("the state store failed")))).isNull();
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", new IllegalStateException("a step's own: timed out"))))
                .as("thrown outside Kafka's producer").isNull();
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", new RecordTooLargeException("r")))).isNull();
        assertThat(StreamThreadFailureHandler.brokerAway(new StreamsException("x", new java.util.concurrent.TimeoutException("not Kafka's")))).isNull();
    }

    @Test
    void theDefaultsAllowFiveReplacementsInTenMinutes() {
        assertThat(StreamThreadFailureHandler.MAX_REPLACEMENTS).isEqualTo(5);
        assertThat(StreamThreadFailureHandler.WINDOW).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void aJvmErrorShutsTheClientDownAtOnce() {
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(new SimpleMeterRegistry());
        assertThat(handler.handle(new StreamsException("task failed", new OutOfMemoryError("Java heap space"))))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
}
