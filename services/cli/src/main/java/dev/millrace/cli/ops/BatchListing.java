package dev.millrace.cli.ops;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The batches of one batch topic, summed up for {@code ./millrace batches}: read {@code read_committed}
 * up to the end offsets, keeping only a summary of the newest N (so a long topic costs no memory).
 */
public final class BatchListing {
    /** How many record ids a summary keeps, for the listing's first-records column. */
    static final int FIRST_RECORDS = 2;

    private BatchListing() {
    }

    /**
     * One batch: its id and place on the topic, the Kafka timestamp, real rows of B, the shares,
     * the distinct records of its rows (DPO: of the chosen rows, which name the same pairs as the
     * rejected ones) and the first {@link #FIRST_RECORDS} of them.
     */
    public record Summary(String batchId, int partition, long offset, long timestampMs, int realRows, int rows,
                          double nonpadShare, double trainedShare, int records, List<String> firstRecords) {
        static Summary of(Batch batch, int partition, long offset, long timestampMs) {
            Set<String> ids = new LinkedHashSet<>();
            for (BatchRow row : batch.getRowsList()) {
                for (RecordRef ref : row.getRecordsList()) {
                    ids.add(ref.getRecordId());
                }
            }
            List<String> first = ids.stream().limit(FIRST_RECORDS).toList();
            return new Summary(batch.getBatchId(), partition, offset, timestampMs, batch.getRealRows(), batch.getRowsCount(),
                    batch.getNonpadShare(), batch.getTrainedShare(), ids.size(), first);
        }
    }

    /** What one topic holds: its batch count and the newest {@code last} batches, oldest first. */
    public record Listing(String topic, long batches, List<Summary> newest) {
    }

    /** Newest first: by Kafka timestamp, then offset, then partition (a stable order for equal times). */
    static final Comparator<Summary> OLDEST_FIRST = Comparator.comparingLong(Summary::timestampMs)
            .thenComparingLong(Summary::offset).thenComparingInt(Summary::partition);

    /** Reads {@code topic} and keeps the newest {@code last} batches; messages that are no batch are not counted. */
    public static Listing read(TopicScan scan, String topic, int last) {
        PriorityQueue<Summary> newest = new PriorityQueue<>(OLDEST_FIRST);
        long[] count = {0};
        scan.readAll(topic, r -> {
            if (r.value() == null) {
                return; // a tombstone: no batch
            }
            Batch batch;
            try {
                batch = Batch.parseFrom(r.value());
            } catch (InvalidProtocolBufferException e) {
                return; // not a batch: nothing to list
            }
            count[0]++;
            newest.add(Summary.of(batch, r.partition(), r.offset(), r.timestamp()));
            if (newest.size() > last) {
                newest.poll();
            }
        });
        List<Summary> list = new ArrayList<>(newest);
        list.sort(OLDEST_FIRST);
        return new Listing(topic, count[0], List.copyOf(list));
    }
}
