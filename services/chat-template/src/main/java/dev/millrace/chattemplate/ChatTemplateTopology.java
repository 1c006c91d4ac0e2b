package dev.millrace.chattemplate;

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
import java.util.List;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@code <stage>.raw} → drop exact duplicates → render the chat template → {@code <stage>.templated};
 * bad records → dlq.
 */
@ApplicationScoped
public class ChatTemplateTopology {

    @ConfigProperty(name = "millrace.stages")
    List<String> stages;

    @ConfigProperty(name = "millrace.tokenizer")
    Optional<String> tokenizer;

    @ConfigProperty(name = "millrace.topic-prefix")
    String topicPrefix;

    @Produces
    public Topology topology(MeterRegistry registry) {
        Topics topics = new Topics(topicPrefix);
        TokenizerFolder folder = TokenizerFolders.load(tokenizer);
        Topology topology = new Topology();
        for (String id : stages) {
            Stage stage = Stage.fromId(id);
            // T does not matter for rendering; the loss-mask service owns truncation.
            SftPreparer preparer = new SftPreparer(folder, StageSettings.sftOptions(stage, 2));
            StepTopology.addStep(topology, stage, topics.raw(stage), topics.templated(stage), topics.dlq(),
                    s -> new RenderProcessor(s, preparer, folder.fingerprint(), registry),
                    Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RenderProcessor.seenStoreName(stage)),
                            Serdes.String(), Serdes.Long()));
        }
        return topology;
    }
}
