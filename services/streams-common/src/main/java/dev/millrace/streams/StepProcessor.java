package dev.millrace.streams;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.contract.DeadLetters;
import dev.millrace.contract.StepMetrics;
import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * One pipeline step as a Kafka Streams processor: each input record either becomes one output
 * record (forwarded to the stage's output sink) or one dead letter (forwarded to its dead-letter
 * sink, see {@link StepWiring}) carrying the input message as it was on its topic. Nothing is dropped silently and a bad
 * record never stops the stream. Subclasses hold only the step's logic; the rule itself is core's.
 */
public abstract class StepProcessor implements Processor<String, byte[], String, byte[]> {

    private final String service;
    protected final Stage stage;
    private final StepMetrics metrics;
    protected ProcessorContext<String, byte[]> context;

    protected StepProcessor(String service, Stage stage, MeterRegistry registry) {
        this.service = service;
        this.stage = stage;
        this.metrics = new StepMetrics(registry, service, stage);
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        this.context = context;
    }

    @Override
    public final void process(Record<String, byte[]> record) {
        metrics.in();
        TopicOffset input = inputOffset();
        try {
            byte[] out = transform(record.key(), record.value(), input);
            if (out != null) {
                context.forward(record.withValue(out), StepWiring.outputName(stage));
                metrics.out();
            }
        } catch (RecordRejected e) {
            deadLetter(record, e.reason(), e.getMessage(), input);
        } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
            // Not a message of the topic's type, or one missing what its type requires.
            deadLetter(record, Reason.MALFORMED_MESSAGE, "the message on " + input.getTopic() + " is malformed: "
                    + e.getMessage(), input);
        }
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
