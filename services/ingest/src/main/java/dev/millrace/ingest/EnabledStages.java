package dev.millrace.ingest;

import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.StepMetrics;
import dev.millrace.streams.TokenizerFolders;
import dev.millrace.streams.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The stages this instance accepts ({@code millrace.stages}), each with its reader, topics and
 * metrics. Built at startup so that a bad tokenizer folder or stage list stops the service at once
 * instead of failing the first request.
 */
@Startup
@Singleton
public class EnabledStages {
    /**
     * Only SFT conversations have an ingest path so far: pretrain texts and DPO pairs have no reader
     * in core yet, and distill prompts (no assistant message, written to distill.prompts) need a
     * prompt reader that core does not have either.
     */
    static final Set<Stage> SUPPORTED = EnumSet.of(Stage.SFT);

    /** One enabled stage: how its lines are read, where they go, what is counted. */
    record StageIngest(Stage stage, LineIngester ingester, StepMetrics metrics, String rawTopic, String dlqTopic) {
    }

    private final TokenizerFolder folder;
    private final Map<Stage, StageIngest> byStage = new EnumMap<>(Stage.class);
    private final List<String> ids;

    @Inject
    EnabledStages(@ConfigProperty(name = "millrace.stages") List<String> stages,
                  @ConfigProperty(name = "millrace.tokenizer") Optional<String> tokenizer,
                  @ConfigProperty(name = "millrace.topic-prefix") String topicPrefix,
                  @ConfigProperty(name = "millrace.ingest.max-record-bytes") int maxRecordBytes,
                  MeterRegistry registry) {
        Topics topics = new Topics(topicPrefix);
        this.ids = List.copyOf(stages);
        this.folder = TokenizerFolders.load(tokenizer);
        for (String id : stages) {
            Stage stage = Stage.fromId(id);
            if (!SUPPORTED.contains(stage)) {
                folder.close();
                throw new IllegalArgumentException("millrace.stages: ingest cannot take the " + id
                        + " stage yet (supported: sft)");
            }
            byStage.put(stage, new StageIngest(stage, new LineIngester(stage, folder, maxRecordBytes),
                    new StepMetrics(registry, LineIngester.SERVICE, stage), topics.raw(stage), topics.dlq()));
        }
    }

    Optional<StageIngest> get(Stage stage) {
        return Optional.ofNullable(byStage.get(stage));
    }

    /** The configured stage names, for messages. */
    List<String> ids() {
        return ids;
    }

    @PreDestroy
    void close() {
        folder.close();
    }
}
