package dev.millrace.streams.failure;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
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
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(3, Duration.ofMinutes(10), now::get);
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
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler(2, Duration.ofMinutes(10), now::get);
        StreamsException failure = new StreamsException("broker away");

        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        now.addAndGet(Duration.ofMinutes(10).toMillis());
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.REPLACE_THREAD);
        assertThat(handler.handle(failure)).isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }

    @Test
    void theDefaultsAllowFiveReplacementsInTenMinutes() {
        assertThat(StreamThreadFailureHandler.MAX_REPLACEMENTS).isEqualTo(5);
        assertThat(StreamThreadFailureHandler.WINDOW).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void aJvmErrorShutsTheClientDownAtOnce() {
        StreamThreadFailureHandler handler = new StreamThreadFailureHandler();
        assertThat(handler.handle(new StreamsException("task failed", new OutOfMemoryError("Java heap space"))))
                .isEqualTo(StreamThreadExceptionResponse.SHUTDOWN_CLIENT);
    }
}
