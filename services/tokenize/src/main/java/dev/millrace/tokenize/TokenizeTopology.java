package dev.millrace.tokenize;

import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.streams.StepWiring;
import dev.millrace.streams.TokenizerFolders;
import dev.millrace.streams.failure.StreamThreadFailureHandler;
import dev.millrace.streams.health.StreamRunningCheck;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.Readiness;

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

    /**
     * Installed by Quarkus on the Kafka Streams client: a failed stream thread is replaced (however often
     * when the broker was away), and a client whose threads keep failing for other reasons shuts down so
     * that health says DOWN (docs/failures.md).
     */
    @Produces
    @Singleton
    public StreamsUncaughtExceptionHandler streamThreadFailures(MeterRegistry registry) {
        return new StreamThreadFailureHandler(registry);
    }

    /** Readiness DOWN while the Kafka Streams client is not RUNNING (docs/failures.md). */
    @Produces
    @Singleton
    @Readiness
    public HealthCheck streamRunning(KafkaStreams streams) {
        return StreamRunningCheck.of(streams);
    }
}
