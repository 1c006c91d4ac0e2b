package dev.millrace.streams;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.contract.DeadLetters;
import dev.millrace.contract.StepMetrics;
import dev.millrace.core.record.MalformedMessage;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import dev.millrace.streams.failure.FaultInjection;
import dev.millrace.streams.health.RecordsInProcess;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.jboss.logging.Logger;

/**
 * One pipeline step as a Kafka Streams processor: each input record either becomes one output
 * record (forwarded to the stage's output sink) or one dead letter (forwarded to its dead-letter
 * sink, see {@link StepWiring}) carrying the input message as it was on its topic. Nothing is
 * dropped silently and a bad record never stops the stream. Subclasses hold only the step's logic;
 * the rule itself is core's.
 *
 * <p>What a record's failure becomes (docs/failures.md):
 * <ul>
 * <li>{@link RecordRejected}: a dead letter with its reason;
 * <li>{@link InvalidProtocolBufferException}, {@link MalformedMessage} or no value at all: the input
 *     is not a message of its topic's type, {@code MALFORMED_MESSAGE};
 * <li>any other exception (a bug, or input no rule foresaw; a {@link StackOverflowError} too, which
 *     one deeply nested record can cause): {@code UNEXPECTED_ERROR}, naming the exception's class and
 *     message, logged with its stack trace; the step goes on with the next record;
 * <li>Kafka's own exceptions ({@link KafkaException}: a fenced producer, a failed state store) are
 *     not the record's fault and are rethrown, to the handlers in {@code dev.millrace.streams.failure}.
 * </ul>
 */
public abstract class StepProcessor implements Processor<String, byte[], String, byte[]> {
    private static final Logger LOG = Logger.getLogger(StepProcessor.class);

    private final String service;
    protected final Stage stage;
    private final StepMetrics metrics;
    private final Set<String> injectedFaults; // tests only, empty unless configured (FaultInjection)
    protected ProcessorContext<String, byte[]> context;

    protected StepProcessor(String service, Stage stage, MeterRegistry registry) {
        this.service = service;
        this.stage = stage;
        this.metrics = new StepMetrics(registry, service, stage);
        this.injectedFaults = FaultInjection.recordsFor(service);
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
    }

    @Override
    public final void process(Record<String, byte[]> record) {
        TopicOffset input = inputOffset();
        // Seen by the liveness check while in process: a step stuck on one record shows (StuckRecordCheck).
        RecordsInProcess.Started started = RecordsInProcess.shared().start(service + "/" + stage.id(),
                input.getTopic() + "-" + input.getPartition() + "@" + input.getOffset());
        try {
            handle(record, input);
        } finally {
            started.done();
        }
    }

    private void handle(Record<String, byte[]> record, TopicOffset input) {
        metrics.in();
        byte[] out;
        try {
            if (record.value() == null) {
                throw new MalformedMessage("the message has no value (a tombstone)");
            }
            FaultInjection.throwIfListed(injectedFaults, service, record.key());
            out = transform(record.key(), record.value(), input);
        } catch (RecordRejected e) {
            deadLetter(record, e.reason(), e.getMessage(), input);
            return;
        } catch (InvalidProtocolBufferException | MalformedMessage e) {
            // Not a message of the topic's type, or one missing what its type requires.
            deadLetter(record, Reason.MALFORMED_MESSAGE, "the message on " + input.getTopic() + " is malformed: "
                    + e.getMessage(), input);
            return;
        } catch (KafkaException e) {
            throw e;
        } catch (RuntimeException | StackOverflowError e) {
            if (thrownByKafkaClient(e)) {
                // Kafka's own state, not the record's (e.g. the producer refusing a state store's changelog send while a
                // commit that timed out in a broker outage must be retried): a dead letter here could be committed
                // with a later retry of that transaction, for a good record.
                throw (RuntimeException) e;
            }
            LOG.errorf(e, "%s/%s: unexpected %s on the record read at %s-%d@%d (key %s); dead-lettered as %s, going on",
                    service, stage.id(), e.getClass().getName(), input.getTopic(), input.getPartition(), input.getOffset(),
                    record.key(), Reason.UNEXPECTED_ERROR);
            deadLetter(record, Reason.UNEXPECTED_ERROR, unexpected(e, input), input);
            return;
        }
        if (out != null) {
            context.forward(record.withValue(out), StepWiring.outputName(stage));
            metrics.out();
        }
    }

    /** Whether the exception was thrown inside Kafka's producer or consumer (not by a step, nor by a Kafka Streams store over bad input). */
    static boolean thrownByKafkaClient(Throwable e) {
        StackTraceElement[] stack = e.getStackTrace();
        return e instanceof RuntimeException && stack.length > 0 && stack[0].getClassName().startsWith("org.apache.kafka.clients.");
    }

    /** The dead letter's message for an unexpected exception: where, and the exception's class and message. */
    static String unexpected(Throwable e, TopicOffset input) {
        return "unexpected " + e.getClass().getName() + " on the message read from " + input.getTopic() + "-"
                + input.getPartition() + "@" + input.getOffset() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }

    /**
     * The step: the output bytes for one input, or null when the input is consumed without an
     * output of its own (e.g. a row added to an open batch).
     */
    protected abstract byte[] transform(String key, byte[] value, TopicOffset input)
            throws RecordRejected, InvalidProtocolBufferException;

    /** The source recorded in the input message, for dead letters; null when unknown. */
    protected Source sourceOf(byte[] value) {
        return null;
    }

    private void deadLetter(Record<String, byte[]> record, Reason reason, String message, TopicOffset input) {
        Source source;
        try {
            source = sourceOf(record.value());
        } catch (RuntimeException e) {
            source = null;
        }
        DeadLetter letter = DeadLetters.of(service, stage, reason, message, record.value(), source, record.key(), input);
        context.forward(new Record<>(DeadLetters.key(letter), letter.toByteArray(), record.timestamp()), StepWiring.deadLettersName(stage));
        metrics.deadLetter(reason);
    }

    /** Forwards an output record of its own key (e.g. a batch, closed when full or by a punctuator). */
    protected void emit(String key, byte[] value, long timestamp) {
        context.forward(new Record<>(key, value, timestamp), StepWiring.outputName(stage));
    }

    protected StepMetrics metrics() {
        return metrics;
    }

    protected TopicOffset inputOffset() {
        RecordMetadata m = context.recordMetadata().orElse(null);
        if (m == null) {
            return TopicOffset.getDefaultInstance();
        }
        return TopicOffset.newBuilder().setTopic(m.topic()).setPartition(m.partition()).setOffset(m.offset()).build();
    }
}
