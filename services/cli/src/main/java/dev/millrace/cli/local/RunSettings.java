package dev.millrace.cli.local;

import dev.millrace.core.record.Stage;
import dev.millrace.contract.Topics;
import java.util.List;
import java.util.Set;

/**
 * What the services of a local run are configured with, typed: the stages they serve, the topic
 * prefix, and loss-mask's row length T, batch size B, batch linger and the stages whose batches are
 * packed. {@link ServiceProperties} turns it into each service's config keys.
 */
public record RunSettings(List<Stage> stages, String topicPrefix, int seqLen, int batchSize, long batchLingerMs, Set<Stage> packing) {
    public RunSettings {
        stages = List.copyOf(stages);
        packing = Set.copyOf(packing);
    }

    public Topics topics() {
        return new Topics(topicPrefix);
    }
}
