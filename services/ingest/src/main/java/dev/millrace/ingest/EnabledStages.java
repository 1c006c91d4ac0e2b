package dev.millrace.ingest;

import dev.millrace.contract.StepMetrics;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The stages this instance accepts ({@code millrace.stages}), each with its reader, topics and
 * metrics. Built at startup (an unknown stage id already stops {@link IngestConfig} from mapping). Reading needs no tokenizer: template and tokenizer checks happen downstream.
 */
@Startup
@Singleton
public class EnabledStages {
    /** Every stage has an ingest path: pretrain texts, SFT and distill conversations (and distill prompts), DPO pairs. */
    static final Set<Stage> SUPPORTED = EnumSet.allOf(Stage.class);

    /** One enabled stage: how its lines are read, what is counted, where its dead letters go. */
    record StageIngest(Stage stage, LineIngester ingester, StepMetrics metrics, String dlqTopic) {
    }

    private final Map<Stage, StageIngest> byStage = new EnumMap<>(Stage.class);
    private final List<String> ids;

    @Inject
    EnabledStages(IngestConfig config, MeterRegistry registry) {
        Topics topics = new Topics(config.topicPrefix());
        int maxRecordBytes = config.ingest().maxRecordBytes();
        this.ids = config.stages().stream().map(Stage::id).toList();
        for (Stage stage : config.stages()) {
            if (!SUPPORTED.contains(stage)) {
                throw new IllegalArgumentException("millrace.stages: ingest cannot take the " + stage.id() + " stage");
            }
            byStage.put(stage, new StageIngest(stage, new LineIngester(stage, topics, maxRecordBytes),
                    new StepMetrics(registry, LineIngester.SERVICE, stage), topics.dlq()));
        }
    }

    Optional<StageIngest> get(Stage stage) {
        return Optional.ofNullable(byStage.get(stage));
    }

    /** The enabled stages, in the order of {@link Stage}. */
    Set<Stage> stages() {
        return byStage.keySet();
    }

    /** The configured stage names, for messages. */
    List<String> ids() {
        return ids;
    }
}
