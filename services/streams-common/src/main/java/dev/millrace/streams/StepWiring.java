package dev.millrace.streams;

import dev.millrace.core.record.Stage;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * Adds one stage's step to a topology, in the order a record flows, where the topology is built:
 * {@code source(input topic)} → {@code processor(...)} (with its {@code store}s) →
 * {@code output(topic)} and {@code deadLetters(topic)}. Keys are strings (record and batch ids),
 * values the topics' protobuf bytes. The nodes are named after the stage ({@code sft-in},
 * {@code sft-step}, {@code sft-out}, {@code sft-dlq}); a {@link StepProcessor} forwards to its two
 * sinks by these names.
 */
public final class StepWiring {
    private final Topology topology;
    private final Stage stage;

    private StepWiring(Topology topology, Stage stage) {
        this.topology = topology;
        this.stage = stage;
    }

    public static StepWiring of(Topology topology, Stage stage) {
        return new StepWiring(topology, stage);
    }

    public static String sourceName(Stage stage) {
        return stage.id() + "-in";
    }

    public static String processorName(Stage stage) {
        return stage.id() + "-step";
    }

    /** The sink of the step's output records. */
    public static String outputName(Stage stage) {
        return stage.id() + "-out";
    }

    /** The sink of the step's dead letters. */
    public static String deadLettersName(Stage stage) {
        return stage.id() + "-dlq";
    }

    /** The topic the step reads. */
    public StepWiring source(String topic) {
        topology.addSource(sourceName(stage), Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), topic);
        return this;
    }

    /** The step's processor, fed by the source (Kafka Streams makes one per task from the supplier). */
    public StepWiring processor(ProcessorSupplier<String, byte[], String, byte[]> supplier) {
        topology.addProcessor(processorName(stage), supplier, sourceName(stage));
        return this;
    }

    /** A state store the processor uses. */
    public StepWiring store(StoreBuilder<?> store) {
        topology.addStateStore(store, processorName(stage));
        return this;
    }

    /** The topic the step writes its output to. */
    public StepWiring output(String topic) {
        topology.addSink(outputName(stage), topic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), processorName(stage));
        return this;
    }

    /** The topic the step writes its output to, each record on the partition {@code partitioner} picks. */
    public StepWiring output(String topic, StreamPartitioner<String, byte[]> partitioner) {
        topology.addSink(outputName(stage), topic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), partitioner,
                processorName(stage));
        return this;
    }

    /** The dead-letter topic. */
    public StepWiring deadLetters(String topic) {
        topology.addSink(deadLettersName(stage), topic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), processorName(stage));
        return this;
    }
}
