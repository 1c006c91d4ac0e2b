package dev.millrace.lossmask;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.streams.processor.StreamPartitioner;

/**
 * Places each batch on the batch topic's partition its id names: a batch id is
 * {@code <stage>-p<N>-<sequence>} with N the tokenized partition (the task) that made it, and the
 * batch goes to partition {@code N mod} the batch topic's partition count. With as many batch
 * partitions as tokenized ones (what the CLI and the docs create), {@code p<N>} is the batch's own
 * partition; with fewer, several tasks share a partition; with more, the extra ones stay empty. A key
 * of another shape (none is written) falls back to Kafka's default key hash.
 */
final class BatchPartitioner implements StreamPartitioner<String, byte[]> {
    private static final Pattern BATCH_ID = Pattern.compile(".+-p(\\d+)-\\d+");

    @Override
    public Optional<Set<Integer>> partitions(String topic, String key, byte[] value, int numPartitions) {
        if (key == null) {
            return Optional.empty();
        }
        Matcher m = BATCH_ID.matcher(key);
        if (!m.matches()) {
            return Optional.empty();
        }
        long partition;
        try {
            partition = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.of(Set.of((int) (partition % numPartitions)));
    }
}
