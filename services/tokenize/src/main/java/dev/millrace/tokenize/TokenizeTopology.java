package dev.millrace.tokenize;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.StepWiring;
import dev.millrace.streams.TokenizerFolders;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.apache.kafka.streams.Topology;

/**
 * For every stage in {@code millrace.stages}: {@code <stage>.templated} → encode with the DJL HF
 * tokenizer (pretrain: and wrap with bos/eos) → {@code <stage>.tokenized}; bad records → dlq.
 */
@ApplicationScoped
public class TokenizeTopology {

    // One topology per app: its meters must be registered once, against the processors that feed them.
    @Produces
    @Singleton
    public Topology topology(TokenizeConfig config, MeterRegistry registry) {
        Topics topics = config.topics();
        TokenizerFolder folder = TokenizerFolders.load(config.tokenizer());
        Topology topology = new Topology();
        for (Stage stage : config.stages()) {
            StageTokenizer tokenizer = new StageTokenizer(folder, config.options(stage));
            StepWiring.of(topology, stage)
                    .source(topics.templated(stage))
                    .processor(() -> new TokenizeProcessor(stage, tokenizer, folder.fingerprint(), registry))
                    .output(topics.tokenized(stage))
                    .deadLetters(topics.dlq());
        }
        return topology;
    }
}
