package dev.millrace.cli.local;

import dev.millrace.contract.ServiceSettings;
import dev.millrace.contract.SettingNames;
import dev.millrace.core.batch.LargestBatch;
import dev.millrace.core.pack.Packer;
import dev.millrace.core.record.Stage;
import java.util.Map;

/**
 * How large a batch record the local run lets through: the {@code max.message.bytes} its batch topics
 * are created with and the {@code max.request.size} loss-mask's producer gets
 * (docs/failures.md#state-and-batch-size-limits). Loss-mask refuses to start when its largest possible
 * batch is over either; this is an upper bound of that batch for any tokenizer (every id at the
 * largest varint) and, for every stage but DPO, as if packed (packed rows carry the most lineage), so a
 * local run never trips the check, and is Kafka's default (1 MiB and a little) when that is enough.
 */
final class BatchRecordLimit {
    /** The broker's default {@code message.max.bytes}, and so every topic's {@code max.message.bytes} unless set. */
    static final int KAFKA_DEFAULT = 1_048_588;
    static final String TOPIC_CONFIG = "max.message.bytes";
    static final String PRODUCER_PROPERTY = "kafka-streams.producer.max.request.size";
    /** Room for Kafka's framing of one record in a batch of its own (under 100 bytes), and a fingerprint of any length. */
    private static final int FRAMING = 4096;

    private BatchRecordLimit() {
    }

    /**
     * The limit for a run: at least {@link #KAFKA_DEFAULT}.
     *
     * @param properties the run's extra service properties (a {@code pack-buffer} there counts)
     */
    static int of(ServiceSettings run, Map<String, String> properties) {
        long largest = 0;
        for (Stage stage : run.stages()) {
            boolean packed = stage != Stage.DPO;
            largest = Math.max(largest, LargestBatch.bytes(stage, run.seqLen(), run.batchSize(), packed, Integer.MAX_VALUE,
                    packBuffer(stage, properties), "", run.topics().raw(stage)));
        }
        return (int) Math.min(Integer.MAX_VALUE, Math.max(KAFKA_DEFAULT, largest + FRAMING));
    }

    private static int packBuffer(Stage stage, Map<String, String> properties) {
        String value = properties.getOrDefault(SettingNames.key(stage, SettingNames.PACK_BUFFER),
                properties.get(SettingNames.key(SettingNames.PACK_BUFFER)));
        try {
            return value == null ? Packer.DEFAULT_BUFFER : Math.max(1, Integer.parseInt(value.trim()));
        } catch (NumberFormatException e) {
            return Packer.DEFAULT_BUFFER; // loss-mask itself refuses such a setting, naming it
        }
    }
}
