package dev.millrace.lossmask;

import dev.millrace.contract.Topics;
import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.batch.DpoSides;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.StepWiring;
import dev.millrace.streams.TokenizerFolders;
import dev.millrace.streams.config.StageOptions;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * For every stage in {@code millrace.stages}: {@code <stage>.tokenized} → core's rule for the stage
 * (pretrain: truncate or split the wrapped sequence; sft/distill: assistant mask; dpo: both sides) →
 * rows, packed when the stage's {@code packing} is on → fixed-shape batches → {@code <stage>.batches}
 * (on the partition the batch id names: {@link BatchPartitioner}); bad records → dlq. The open batch and the pack buffer live in a changelogged state store, so with
 * exactly_once_v2 a restart neither loses nor repeats a row.
 */
@ApplicationScoped
public class LossMaskTopology {
    private final Map<Stage, BatchSizeLimits.Largest> largestBatches = new ConcurrentHashMap<>();

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(LossMaskConfig config, MeterRegistry registry) {
        Topics topics = config.topics();
        TokenizerFolder folder = TokenizerFolders.load(config.tokenizer());
        Topology topology = new Topology();
        for (Stage stage : config.stages()) {
            largestBatches.put(stage, BatchSizeLimits.largest(stage, config.seqLen(), config.batchSize(), config.packs(stage),
                    config.options(stage).packBuffer(), folder.vocabSize(), folder.fingerprint(), topics));
            StepWiring.of(topology, stage)
                    .source(topics.tokenized(stage))
                    .processor(batcher(stage, config, folder, registry))
                    .store(openBatchStore(stage))
                    .output(topics.batches(stage), new BatchPartitioner())
                    .deadLetters(topics.dlq());
        }
        return topology;
    }

    /** Each stage's largest possible batch, known once {@link #topology} has been built ({@link BatchSizeCheck}). */
    public Map<Stage, BatchSizeLimits.Largest> largestBatches() {
        return Map.copyOf(largestBatches);
    }

    /**
     * The stage's processor: DPO pairs ({@link PairProcessor}, never packed), or one row per example
     * for the other stages ({@link RowProcessor}), through the stage's pack buffer when its packing is on.
     */
    private static ProcessorSupplier<String, byte[], String, byte[]> batcher(Stage stage, LossMaskConfig config, TokenizerFolder folder,
                                                                             MeterRegistry registry) {
        StageOptions options = config.options(stage);
        boolean packed = config.packs(stage);
        int seqLen = config.seqLen();
        Duration linger = config.batchLinger();
        String fingerprint = folder.fingerprint();
        BatchAssembler assembler = new BatchAssembler(stage, fingerprint, seqLen, config.batchSize(), folder.padId(), packed);
        if (stage == Stage.DPO) {
            SftPreparer preparer = new SftPreparer(folder, options.sftOptions(seqLen));
            DpoSides sides = new DpoSides(preparer);
            return () -> new PairProcessor(stage, sides, preparer.maskRule(), assembler, fingerprint, linger, registry);
        }
        RecordMasker masker = stage == Stage.PRETRAIN
                ? RecordMasker.pretrain(options.pretrainPreparer(folder, seqLen))
                : RecordMasker.conversation(new SftPreparer(folder, options.sftOptions(seqLen)));
        RowProcessor.Packing packing = packed
                ? new RowProcessor.Packing(seqLen, folder.padId(), options.packBuffer(), config.packLinger(), packBufferGauge(stage, registry))
                : null;
        return () -> new RowProcessor(stage, masker, packing, assembler, fingerprint, linger, registry);
    }

    /** The task's open batch, batch sequence number and pack buffer, changelogged. */
    private static StoreBuilder<KeyValueStore<String, byte[]>> openBatchStore(Stage stage) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BatchingProcessor.storeName(stage)),
                Serdes.String(), Serdes.ByteArray());
    }

    /** Where the stage's tasks report the examples in their pack buffers, summed by a gauge. */
    private static Map<TaskId, Integer> packBufferGauge(Stage stage, MeterRegistry registry) {
        Map<TaskId, Integer> buffered = new ConcurrentHashMap<>();
        Gauge.builder("millrace.pack.buffered", buffered, m -> m.values().stream().mapToInt(Integer::intValue).sum())
                .tag("stage", stage.id())
                .strongReference(true)
                .register(registry);
        return buffered;
    }
}
