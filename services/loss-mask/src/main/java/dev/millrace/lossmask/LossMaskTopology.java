package dev.millrace.lossmask;

import dev.millrace.core.batch.BatchAssembler;
import dev.millrace.core.prepare.SftPreparer;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.StageSettings;
import dev.millrace.streams.StepTopology;
import dev.millrace.streams.TokenizerFolders;
import dev.millrace.streams.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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

    @ConfigProperty(name = "millrace.stages")
    List<String> stages;

    @ConfigProperty(name = "millrace.tokenizer")
    Optional<String> tokenizer;

    @ConfigProperty(name = "millrace.topic-prefix")
    String topicPrefix;

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
        Topics topics = new Topics(topicPrefix);
        TokenizerFolder folder = TokenizerFolders.load(tokenizer);
        Topology topology = new Topology();
        for (String id : stages) {
            Stage stage = Stage.fromId(id);
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
