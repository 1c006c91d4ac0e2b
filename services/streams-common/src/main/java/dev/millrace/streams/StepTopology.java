package dev.millrace.streams;

import dev.millrace.core.record.Stage;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.StoreBuilder;

/**
 * Wires one pipeline step per stage into a topology, read top to bottom:
 * input topic → step processor → output topic, and → dead-letter topic.
 */
public final class StepTopology {
    private StepTopology() {
    }

    public static String outSink(Stage stage) {
        return stage.id() + "-out";
    }

    public static String dlqSink(Stage stage) {
        return stage.id() + "-dlq";
    }

    /**
     * @param step a factory of the stage's processor (Kafka Streams makes one per task)
     * @param stores state stores the processor uses (connected to it)
     */
    public static void addStep(Topology topology, Stage stage, String inputTopic, String outputTopic, String dlqTopic,
                               Function<Stage, ? extends StepProcessor> step, StoreBuilder<?>... stores) {
        String source = stage.id() + "-in";
        String processor = stage.id() + "-step";
        ProcessorSupplier<String, byte[], String, byte[]> supplier = () -> step.apply(stage);
        topology.addSource(source, Serdes.String().deserializer(), Serdes.ByteArray().deserializer(), inputTopic)
                .addProcessor(processor, supplier, source)
                .addSink(outSink(stage), outputTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), processor)
                .addSink(dlqSink(stage), dlqTopic, Serdes.String().serializer(), Serdes.ByteArray().serializer(), processor);
        for (StoreBuilder<?> store : stores) {
            topology.addStateStore(store, processor);
        }
    }
}
