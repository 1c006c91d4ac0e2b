package dev.millrace.lossmask;

import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.PipelineSettings;
import dev.millrace.streams.StageSettings;
import dev.millrace.streams.StepTopology;
import dev.millrace.streams.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@code <stage>.tokenized} → mask, truncate, pad → rows → fixed-shape batches →
 * {@code <stage>.batches}; bad records → dlq. The open batch lives in a changelogged state store,
 * so with exactly_once_v2 a restart neither loses nor repeats a row.
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

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(MeterRegistry registry) {
        PipelineSettings pipeline = settings != null ? settings : PipelineSettings.fromConfig();
        Topics topics = pipeline.topics();
        TokenizerFolder folder = pipeline.folder();
        Topology topology = new Topology();
        for (Stage stage : pipeline.stages()) {
            SftPreparer preparer = new SftPreparer(folder, StageSettings.sftOptions(stage, seqLen));
            BatchAssembler assembler = new BatchAssembler(stage, folder.fingerprint(), seqLen, batchSize, folder.padId());
            String store = BatchProcessor.storeName(stage);
            StepTopology.addStep(topology, stage, topics.tokenized(stage), topics.batches(stage), topics.dlq(),
                    s -> new BatchProcessor(s, preparer, assembler, folder.fingerprint(), Duration.ofMillis(lingerMs), registry),
                    Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(store), Serdes.String(), Serdes.ByteArray()));
        }
        return topology;
    }
}
