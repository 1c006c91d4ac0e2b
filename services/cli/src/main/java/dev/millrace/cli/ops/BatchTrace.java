package dev.millrace.cli.ops;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.Source;
import dev.millrace.proto.v1.TopicOffset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Lineage of one batch: finds it on its batch topic and, for every record in its rows, reads the
 * raw record at the topic/partition/offset the row names, to tell where the record entered
 * Millrace (its {@link Source}).
 */
public final class BatchTrace {
    private static final Pattern BATCH_ID = Pattern.compile("(pretrain|sft|dpo|distill)-p\\d+-\\d+");

    private BatchTrace() {
    }

    /** Where a batch was found. */
    public record Found(Batch batch, String topic, int partition, long offset) {
    }

    /**
     * One line of a trace: a record of a row, or a filler row. {@code side} is "chosen"/"rejected"
     * for DPO batches (else null); {@code window} the pretrain split window (null for other stages);
     * {@code source} null when the raw record could not be read, then {@code problem} says why.
     */
    public record Line(int row, String side, boolean filler, String recordId, TopicOffset raw, Integer window,
                       Source source, String problem) {
    }

    /** The stage a batch id names ({@code <stage>-p<partition>-<sequence>}), if it has that shape. */
    public static Optional<Stage> stageOf(String batchId) {
        Matcher m = BATCH_ID.matcher(batchId);
        return m.matches() ? Optional.of(Stage.fromId(m.group(1))) : Optional.empty();
    }

    /** Every message of {@code topic} whose batch id is {@code batchId} (exactly once: at most one). */
    public static List<Found> find(TopicScan scan, String topic, String batchId) {
        byte[] key = batchId.getBytes(StandardCharsets.UTF_8);
        List<Found> found = new ArrayList<>();
        scan.readAll(topic, r -> {
            if (r.key() != null && !java.util.Arrays.equals(r.key(), key)) {
                return; // batch topics are keyed by batch id: skip without parsing
            }
            if (r.value() == null) {
                return; // a tombstone: no batch
            }
            try {
                Batch batch = Batch.parseFrom(r.value());
                if (batch.getBatchId().equals(batchId)) {
                    found.add(new Found(batch, r.topic(), r.partition(), r.offset()));
                }
            } catch (InvalidProtocolBufferException e) {
                // not a batch: nothing of ours to trace
            }
        });
        return found;
    }

    /** The trace lines of a batch, in row order (DPO: chosen rows, then rejected rows). */
    public static List<Line> lines(TopicScan scan, Batch batch) {
        Stage stage = StageCodec.fromWire(batch.getStage());
        boolean dpo = stage == Stage.DPO;
        Map<TopicOffset, Object> raws = new HashMap<>();
        List<Line> lines = new ArrayList<>();
        addRows(scan, batch.getRowsList(), dpo ? "chosen" : null, stage, raws, lines);
        if (dpo) {
            addRows(scan, batch.getRejectedRowsList(), "rejected", stage, raws, lines);
        }
        return lines;
    }

    private static void addRows(TopicScan scan, List<BatchRow> rows, String side, Stage stage, Map<TopicOffset, Object> raws, List<Line> lines) {
        for (int i = 0; i < rows.size(); i++) {
            BatchRow row = rows.get(i);
            if (row.getFiller() || row.getRecordsCount() == 0) {
                lines.add(new Line(i, side, true, null, null, null, null, null));
                continue;
            }
            for (RecordRef ref : row.getRecordsList()) {
                Integer window = stage == Stage.PRETRAIN ? ref.getWindow() : null;
                Object raw = raws.computeIfAbsent(ref.getRaw(), at -> readRaw(scan, at));
                if (raw instanceof RawRecord record) {
                    String problem = record.getRecordId().equals(ref.getRecordId()) ? null
                            : "the raw message at that offset is record " + record.getRecordId();
                    lines.add(new Line(i, side, false, ref.getRecordId(), ref.getRaw(), window, record.getSource(), problem));
                } else {
                    lines.add(new Line(i, side, false, ref.getRecordId(), ref.getRaw(), window, null, (String) raw));
                }
            }
        }
    }

    /** The raw record at {@code at}, or a sentence saying why there is none. */
    private static Object readRaw(TopicScan scan, TopicOffset at) {
        if (at.getTopic().isEmpty()) {
            return "the row names no raw offset";
        }
        Optional<ConsumerRecord<byte[], byte[]>> message;
        try {
            message = scan.fetch(at.getTopic(), at.getPartition(), at.getOffset());
        } catch (RuntimeException e) {
            return "cannot read it: " + e.getMessage();
        }
        if (message.isEmpty()) {
            return "no message at that offset any more (retention?)";
        }
        if (message.get().value() == null) {
            return "the message at that offset is a tombstone (no value), not a raw record";
        }
        try {
            return RawRecord.parseFrom(message.get().value());
        } catch (InvalidProtocolBufferException e) {
            return "the message at that offset is not a raw record";
        }
    }
}
