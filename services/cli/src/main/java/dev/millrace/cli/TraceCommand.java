package dev.millrace.cli;

import dev.millrace.cli.ops.BatchTrace;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.cli.ops.TraceOutput;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ./millrace trace BATCH_ID}: where the records of one batch came from. Finds the batch on
 * {@code <prefix>.<stage>.batches} ({@code read_committed}, up to the end offsets) and prints, per
 * row and record, the record id, its raw topic/partition/offset (and pretrain window) and the
 * source read from that raw record.
 */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = "Show the records in one batch and where each came from (lineage).")
final class TraceCommand extends Millrace.OutputAware {

    @Parameters(index = "0", paramLabel = "BATCH_ID", description = "e.g. sft-p0-00000003")
    String batchId;

    @Option(names = "--stage", paramLabel = "STAGE", description = "pretrain|sft|dpo|distill (default: from the batch id)")
    String stage;

    @Option(names = "--bootstrap", defaultValue = DeploymentDefaults.BOOTSTRAP, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default ${DEFAULT-VALUE})")
    String bootstrap;

    @Option(names = "--topic-prefix", defaultValue = DeploymentDefaults.TOPIC_PREFIX, paramLabel = "P", description = "topic prefix (default ${DEFAULT-VALUE})")
    String topicPrefix;

    @Option(names = "--json", description = "one JSON object per line instead of a table")
    boolean json;


    @Override
    public void run() {
        Stage s = StageOption.parse(stage).or(() -> BatchTrace.stageOf(batchId)).orElseThrow(() -> new Millrace.UsageError(
                "cannot tell the stage from batch id '" + batchId + "' (expected <stage>-p<partition>-<sequence>); give --stage"));
        String topic = new Topics(topicPrefix).batches(s);
        try (TopicScan scan = new TopicScan(bootstrap)) {
            List<BatchTrace.Found> found = BatchTrace.find(scan, topic, batchId);
            if (found.isEmpty()) {
                throw new Millrace.Failure("batch " + batchId + " not found on " + topic + " at " + bootstrap
                        + " (read every committed message up to the end offsets)");
            }
            if (found.size() > 1) {
                err.println("millrace trace: warning: batch " + batchId + " occurs " + found.size() + " times on " + topic + "; showing the first");
            }
            BatchTrace.Found first = found.get(0);
            List<BatchTrace.Line> lines = BatchTrace.lines(scan, first.batch());
            if (json) {
                TraceOutput.json(out, first, lines);
            } else {
                TraceOutput.table(out, first, lines);
            }
            out.flush();
        } catch (TopicScan.Unavailable e) {
            throw new Millrace.Failure(e.getMessage());
        }
    }
}
