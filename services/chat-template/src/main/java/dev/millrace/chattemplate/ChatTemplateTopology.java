package dev.millrace.chattemplate;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.PipelineSettings;
import dev.millrace.streams.StepTopology;
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
import org.apache.kafka.streams.state.Stores;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@code <stage>.raw} → drop exact duplicates → render (conversations and DPO sides with the chat
 * template, pretrain text as given) → {@code <stage>.templated}, for every stage in
 * {@code millrace.stages}; bad records → dlq.
 */
@ApplicationScoped
public class ChatTemplateTopology {

    /** Null in the app: read from config when the topology is built; tests set it. */
    PipelineSettings settings;

    /** How long a record id is remembered for the duplicate drop (default 7 days). */
    @ConfigProperty(name = "millrace.dedup.retention-ms", defaultValue = "604800000")
    long dedupRetentionMs;

    /** The most expired entries one sweep of the duplicate store deletes. */
    @ConfigProperty(name = "millrace.dedup.expiry-max-per-run", defaultValue = "10000")
    int dedupExpiryMaxPerRun;

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(MeterRegistry registry) {
        PipelineSettings pipeline = settings != null ? settings : PipelineSettings.fromConfig();
        Topics topics = pipeline.topics();
        TokenizerFolder folder = pipeline.folder();
        Duration retention = Duration.ofMillis(dedupRetentionMs);
        RenderProcessor.checkSettings(retention, dedupExpiryMaxPerRun);
        Topology topology = new Topology();
        for (Stage stage : pipeline.stages()) {
            StageRenderer renderer = new StageRenderer(stage, folder);
            Map<TaskId, Long> entries = new ConcurrentHashMap<>();
            // Approximate (RocksDB's estimate), summed over this instance's tasks of the stage.
            Gauge.builder("millrace.dedup.entries", entries, m -> m.values().stream().mapToLong(Long::longValue).sum())
                    .tags("service", PipelineService.CHAT_TEMPLATE.id(), "stage", stage.id())
                    .strongReference(true)
                    .register(registry);
            StepTopology.addStep(topology, stage, topics.raw(stage), topics.templated(stage), topics.dlq(),
                    s -> new RenderProcessor(s, renderer, folder.fingerprint(), registry, retention,
                            dedupExpiryMaxPerRun, entries),
                    Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RenderProcessor.seenStoreName(stage)),
                            Serdes.String(), Serdes.Long()));
        }
        return topology;
    }
}
