package dev.millrace.cli;

import dev.millrace.cli.ops.BatchListing;
import dev.millrace.cli.ops.BatchesOutput;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace batches}: the newest batches of each stage's {@code <prefix>.<stage>.batches}
 * ({@code read_committed}, up to the end offsets), with their place on the topic, fill and records,
 * so that an operator has the ids {@code trace} takes.
 */
@Command(name = "batches", mixinStandardHelpOptions = true,
        description = "List the newest batches of each stage (id, partition, offset, rows, fill, records).")
final class BatchesCommand extends Millrace.OutputAware {
    static final int DEFAULT_LAST = 20;

    @Option(names = "--stage", paramLabel = "STAGE", description = "pretrain|sft|dpo|distill (default: every stage whose batch topic exists)")
    String stage;

    @Option(names = "--last", paramLabel = "N", defaultValue = "" + DEFAULT_LAST,
            description = "the newest N batches of each stage, by the time they were written (default ${DEFAULT-VALUE})")
    int last;

    @Option(names = {"--bootstrap", "--bootstrap-servers"}, defaultValue = DeploymentDefaults.BOOTSTRAP, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default ${DEFAULT-VALUE})")
    String bootstrap;

    @Option(names = "--topic-prefix", defaultValue = DeploymentDefaults.TOPIC_PREFIX, paramLabel = "P", description = "topic prefix (default ${DEFAULT-VALUE})")
    String topicPrefix;

    @Override
    public void run() {
        if (last < 1) {
            throw new Millrace.UsageError("--last must be at least 1");
        }
        Topics topics = new Topics(topicPrefix);
        List<Stage> chosen = StageOption.parse(stage).map(List::of).orElse(List.of(Stage.values()));
        try (TopicScan scan = new TopicScan(bootstrap)) {
            Set<String> existing = scan.topics();
            List<Stage> listed = new ArrayList<>();
            for (Stage s : chosen) {
                if (existing.contains(topics.batches(s))) {
                    listed.add(s);
                }
            }
            if (listed.isEmpty()) {
                throw new Millrace.Failure(stage != null
                        ? "topic " + topics.batches(chosen.get(0)) + " does not exist on " + bootstrap
                        : "no batch topic (" + topicPrefix + ".<stage>.batches) exists on " + bootstrap);
            }
            List<BatchListing.Summary> all = new ArrayList<>();
            for (Stage s : listed) {
                BatchListing.Listing listing = BatchListing.read(scan, topics.batches(s), last);
                all.addAll(listing.newest());
                err.println("millrace batches: " + listing.topic() + ": " + listing.batches() + " batch(es)"
                        + (listing.batches() > listing.newest().size() ? ", listed the newest " + listing.newest().size() : ""));
            }
            BatchesOutput.print(out, all);
            out.flush();
        } catch (TopicScan.Unavailable e) {
            throw new Millrace.Failure(e.getMessage());
        }
    }
}
