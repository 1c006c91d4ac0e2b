package dev.millrace.lossmask;

import dev.millrace.contract.Topics;
import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.batch.DpoSides;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.PipelineSettings;
import dev.millrace.streams.StageSettings;
import dev.millrace.streams.StepTopology;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.Stores;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@code <stage>.tokenized} → core's rule for the stage (pretrain: truncate or split the wrapped
 * sequence; sft/distill: assistant mask; dpo: both sides) → rows, packed when the stage's
 * {@code packing} is on → fixed-shape batches → {@code <stage>.batches}; bad records → dlq. The
 * open batch and the pack buffer live in a changelogged state store, so with exactly_once_v2 a
 * restart neither loses nor repeats a row.
 */
@ApplicationScoped
public class LossMaskTopology {

    /** Null in the app: read from config when the topology is built; tests set it. */
    PipelineSettings settings;

    @ConfigProperty(name = "millrace.seq-len")
    int seqLen;

    @ConfigProperty(name = "millrace.batch-size")
    int batchSize;

    @ConfigProperty(name = "millrace.batch-linger-ms")
    long lingerMs;

    /** How long a partly filled pack buffer waits for more examples before it is packed as it is. */
    @ConfigProperty(name = "millrace.pack-linger-ms")
    long packLingerMs;

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(MeterRegistry registry) {
        PipelineSettings pipeline = settings != null ? settings : PipelineSettings.fromConfig();
        Topics topics = pipeline.topics();
        TokenizerFolder folder = pipeline.folder();
        Duration linger = Duration.ofMillis(lingerMs);
        Topology topology = new Topology();
        for (Stage stage : pipeline.stages()) {
            boolean packing = StageSettings.packing(stage);
            if (packing && stage == Stage.DPO) {
                throw new IllegalArgumentException("millrace.dpo.packing=on: packing is not offered for DPO (a batch pairs "
                        + "each chosen row with its rejected row); set millrace.dpo.packing=off");
            }
            BatchAssembler assembler = new BatchAssembler(stage, folder.fingerprint(), seqLen, batchSize, folder.padId(), packing);
            Function<Stage, BatchingProcessor> step;
            if (stage == Stage.DPO) {
                DpoSides sides = new DpoSides(new SftPreparer(folder, StageSettings.sftOptions(stage, seqLen)));
                step = s -> new PairProcessor(s, sides, assembler, folder.fingerprint(), linger, registry);
            } else {
                RecordMasker masker = stage == Stage.PRETRAIN
                        ? RecordMasker.pretrain(StageSettings.pretrainPreparer(folder, stage, seqLen))
                        : RecordMasker.conversation(new SftPreparer(folder, StageSettings.sftOptions(stage, seqLen)));
                RowProcessor.Packing pack = packing ? packing(stage, folder, registry) : null;
                step = s -> new RowProcessor(s, masker, pack, assembler, folder.fingerprint(), linger, registry);
            }
            StepTopology.addStep(topology, stage, topics.tokenized(stage), topics.batches(stage), topics.dlq(), step,
                    Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(BatchingProcessor.storeName(stage)),
                            Serdes.String(), Serdes.ByteArray()));
        }
        return topology;
    }

    private RowProcessor.Packing packing(Stage stage, TokenizerFolder folder, MeterRegistry registry) {
        if (packLingerMs < 0) {
            throw new IllegalArgumentException("millrace.pack-linger-ms must not be negative, was " + packLingerMs);
        }
        Map<TaskId, Integer> buffered = new ConcurrentHashMap<>();
        Gauge.builder("millrace.pack.buffered", buffered, m -> m.values().stream().mapToInt(Integer::intValue).sum())
                .tag("stage", stage.id())
                .strongReference(true)
                .register(registry);
        return new RowProcessor.Packing(seqLen, folder.padId(), StageSettings.packBuffer(stage), Duration.ofMillis(packLingerMs), buffered);
    }
}
