package dev.millrace.core.pack;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.mask.Row;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Packer} for a stream whose state must survive a restart: the buffered examples live in a
 * key-value {@link Store} (a stream service's changelogged state store), one entry per example keyed
 * by its arrival sequence, plus the sequence range and the oldest arrival time. Nothing is kept
 * only in memory: a flush reads the entries back in arrival order into a fresh {@link Packer}, so
 * the rows depend only on the stored examples, and a store restored after a crash gives the same
 * rows as the lost run would have. A flush happens when the buffer holds {@code bufferSize}
 * examples, or when the caller finds it has lingered ({@link #lingered}) on a slow stream.
 */
public final class PackBuffer {
    /** The few operations of a key-value state store this buffer needs. */
    public interface Store {
        byte[] get(String key);

        void put(String key, byte[] value);

        void delete(String key);
    }

    private static final String START = "pack/start";        // arrival sequence of the oldest buffered example
    private static final String NEXT = "pack/next";          // arrival sequence of the next example
    private static final String OLDEST_MS = "pack/oldest-ms"; // when the oldest buffered example arrived
    private static final String EXAMPLE = "pack/example/";

    private final Store store;
    private final int seqLen;
    private final int padId;
    private final int bufferSize;

    public PackBuffer(Store store, int seqLen, int padId, int bufferSize) {
        new Packer(seqLen, padId, bufferSize); // the same argument checks
        this.store = store;
        this.seqLen = seqLen;
        this.padId = padId;
        this.bufferSize = bufferSize;
    }

    /**
     * Adds one example: the real tokens of {@code example} (a row the stage's rule made, already
     * truncated to T) with the records it came from. Returns the packed rows when the buffer has
     * just become full, else none.
     */
    public List<BatchRow> add(Row example, List<RecordRef> records, List<String> warnings, long nowMs) {
        if (example.seqLen() != seqLen) {
            throw new IllegalArgumentException("example row has " + example.seqLen() + " positions, expected T=" + seqLen);
        }
        int n = example.realLength();
        if (n == 0) {
            throw new IllegalArgumentException("an example must have at least one token");
        }
        BatchRow.Builder entry = BatchRow.newBuilder()
                .setLossMask(RowCodec.packMask(Arrays.copyOf(example.mask(), n)))
                .addAllRecords(records)
                .addAllWarnings(warnings);
        for (int k = 0; k < n; k++) {
            entry.addInputIds(example.ids()[k]);
        }
        long next = get(NEXT, 0);
        if (buffered() == 0) {
            put(OLDEST_MS, nowMs);
        }
        store.put(key(next), entry.build().toByteArray());
        put(NEXT, next + 1);
        return buffered() >= bufferSize ? flush() : List.of();
    }

    /** Examples held now. */
    public int buffered() {
        return (int) (get(NEXT, 0) - get(START, 0));
    }

    /** Whether the oldest buffered example has waited at least {@code lingerMs}. */
    public boolean lingered(long nowMs, long lingerMs) {
        return buffered() > 0 && nowMs - get(OLDEST_MS, nowMs) >= lingerMs;
    }

    /** Packs every buffered example into rows (in the order {@link Packer} gives) and empties the buffer. */
    public List<BatchRow> flush() {
        long start = get(START, 0);
        long next = get(NEXT, 0);
        if (next == start) {
            return List.of();
        }
        Packer packer = new Packer(seqLen, padId, bufferSize);
        Map<Long, BatchRow> examples = new HashMap<>();
        List<PackedRow> packed = new ArrayList<>();
        for (long seq = start; seq < next; seq++) {
            BatchRow e = example(seq);
            examples.put(seq, e);
            packed.addAll(packer.add(RowCodec.ids(e), RowCodec.unpackMask(e.getLossMask(), e.getInputIdsCount()), seq));
        }
        packed.addAll(packer.finish());
        List<BatchRow> rows = new ArrayList<>(packed.size());
        for (PackedRow row : packed) {
            List<RecordRef> records = new ArrayList<>();
            List<String> warnings = new ArrayList<>();
            for (long seq : row.lines()) {
                records.addAll(examples.get(seq).getRecordsList());
                warnings.addAll(examples.get(seq).getWarningsList());
            }
            rows.add(PackedRowCodec.toProto(row, records, warnings));
        }
        for (long seq = start; seq < next; seq++) {
            store.delete(key(seq));
        }
        put(START, next);
        store.delete(OLDEST_MS);
        return rows;
    }

    private BatchRow example(long seq) {
        byte[] bytes = store.get(key(seq));
        if (bytes == null) {
            throw new IllegalStateException("pack buffer entry " + seq + " is missing from the state store");
        }
        try {
            return BatchRow.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("pack buffer entry " + seq + " in the state store is unreadable", e);
        }
    }

    private static String key(long seq) {
        return EXAMPLE + String.format("%019d", seq);
    }

    private long get(String key, long absent) {
        byte[] bytes = store.get(key);
        return bytes == null ? absent : ByteBuffer.wrap(bytes).getLong();
    }

    private void put(String key, long value) {
        store.put(key, ByteBuffer.allocate(Long.BYTES).putLong(value).array());
    }
}
