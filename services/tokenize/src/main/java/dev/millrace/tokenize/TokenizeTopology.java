package dev.millrace.tokenize;

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
import java.util.List;
import java.util.Optional;
import org.apache.kafka.streams.Topology;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** {@code <stage>.templated} → encode with the DJL HF tokenizer → {@code <stage>.tokenized}; bad records → dlq. */
@ApplicationScoped
public class TokenizeTopology {

    @ConfigProperty(name = "millrace.stages")
    List<String> stages;

    @ConfigProperty(name = "millrace.tokenizer")
    Optional<String> tokenizer;

    @ConfigProperty(name = "millrace.topic-prefix")
    String topicPrefix;

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(MeterRegistry registry) {
        Topics topics = new Topics(topicPrefix);
        TokenizerFolder folder = TokenizerFolders.load(tokenizer);
        Topology topology = new Topology();
        for (String id : stages) {
            Stage stage = Stage.fromId(id);
            SftPreparer preparer = new SftPreparer(folder, StageSettings.sftOptions(stage, 2));
            StepTopology.addStep(topology, stage, topics.templated(stage), topics.tokenized(stage), topics.dlq(),
                    s -> new TokenizeProcessor(s, preparer, folder.fingerprint(), registry));
        }
        return topology;
    }
}
