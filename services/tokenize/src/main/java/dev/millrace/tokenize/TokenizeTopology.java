package dev.millrace.tokenize;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.PipelineSettings;
import dev.millrace.streams.StepTopology;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.apache.kafka.streams.Topology;

/**
 * {@code <stage>.templated} → encode with the DJL HF tokenizer (pretrain: and wrap with bos/eos) →
 * {@code <stage>.tokenized}, for every stage in {@code millrace.stages}; bad records → dlq.
 */
@ApplicationScoped
public class TokenizeTopology {

    /** Null in the app: read from config when the topology is built; tests set it. */
    PipelineSettings settings;

    // One topology per app: its gauges must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(MeterRegistry registry) {
        PipelineSettings pipeline = settings != null ? settings : PipelineSettings.fromConfig();
        Topics topics = pipeline.topics();
        TokenizerFolder folder = pipeline.folder();
        Topology topology = new Topology();
        for (Stage stage : pipeline.stages()) {
            StageTokenizer tokenizer = new StageTokenizer(stage, folder);
            StepTopology.addStep(topology, stage, topics.templated(stage), topics.tokenized(stage), topics.dlq(),
                    s -> new TokenizeProcessor(s, tokenizer, folder.fingerprint(), registry));
        }
        return topology;
    }
}
