package dev.millrace.chattemplate;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.StepWiring;
import dev.millrace.streams.TokenizerFolders;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * For every stage in {@code millrace.stages}: {@code <stage>.raw} → drop exact duplicates → render
 * (conversations and DPO sides with the chat template, pretrain text as given) →
 * {@code <stage>.templated}; bad records → dlq.
 */
@ApplicationScoped
public class ChatTemplateTopology {

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(ChatTemplateConfig config, MeterRegistry registry) {
        Topics topics = config.topics();
        TokenizerFolder folder = TokenizerFolders.load(config.tokenizer());
        ChatTemplateConfig.Dedup dedup = config.dedup();
        Topology topology = new Topology();
        for (Stage stage : config.stages()) {
            StageRenderer renderer = new StageRenderer(folder, config.options(stage), config.recordBounds());
            Map<TaskId, Long> seenEntries = seenEntriesGauge(stage, registry);
            StepWiring.of(topology, stage)
                    .source(topics.raw(stage))
                    .processor(() -> new RenderProcessor(stage, renderer, folder.fingerprint(), registry,
                            dedup.retention(), dedup.expiryMaxPerRun(), seenEntries))
                    .store(seenIdsStore(stage))
                    .output(topics.templated(stage))
                    .deadLetters(topics.dlq());
        }
        return topology;
    }

    /** The record ids seen (with when each was first seen), changelogged so duplicates are dropped across restarts. */
    private static StoreBuilder<KeyValueStore<String, Long>> seenIdsStore(Stage stage) {
        return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RenderProcessor.seenStoreName(stage)),
                Serdes.String(), Serdes.Long());
    }

    /** Where the stage's tasks report their store sizes: RocksDB's estimate, summed over this instance's tasks. */
    private static Map<TaskId, Long> seenEntriesGauge(Stage stage, MeterRegistry registry) {
        Map<TaskId, Long> entries = new ConcurrentHashMap<>();
        Gauge.builder("millrace.dedup.entries", entries, m -> m.values().stream().mapToLong(Long::longValue).sum())
                .tags("service", PipelineService.CHAT_TEMPLATE.id(), "stage", stage.id())
                .strongReference(true)
                .register(registry);
        return entries;
    }
}
