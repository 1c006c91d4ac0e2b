package dev.millrace.lossmask;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A task's open batch in its changelogged state store, row by row: the batch's start (a {@link Batch}
 * without rows), the row count, and one entry per row (DPO: per chosen and per rejected row). Adding
 * a row writes that row and the count, so the changelog carries each row about once per batch
 * instead of a copy of the whole open batch per row, and no value grows past one row, whatever B
 * and T are (docs/failures.md#state-and-batch-size-limits). Nothing is kept only in memory: after a
 * restart the store restored from the changelog holds the same open batch.
 *
 * <p>A store written by an earlier version holds the whole open batch under one key ({@value #WHOLE});
 * it is split into entries the first time it is read.
 */
final class OpenBatch {
    static final String WHOLE = "open";                  // earlier versions: the whole open batch in one value
    private static final String START = "batch/start";   // the open batch without rows (id, stage, created-at, ...)
    private static final String ROWS = "batch/rows";     // how many rows (DPO: pairs) it holds
    private static final String ROW = "batch/row/";
    private static final String REJECTED = "batch/rejected/";

    private final KeyValueStore<String, byte[]> store;

    OpenBatch(KeyValueStore<String, byte[]> store) {
        this.store = store;
    }

    /** The open batch without its rows, or null when there is none. */
    Batch start() {
        splitWhole();
        byte[] bytes = store.get(START);
        return bytes == null ? null : parse(bytes, START);
    }

    /** Rows (DPO: pairs) held now; 0 when there is no open batch. */
    int rows() {
        splitWhole();
        byte[] bytes = store.get(ROWS);
        return bytes == null ? 0 : ByteBuffer.wrap(bytes).getInt();
    }

    /** Opens a batch: {@code start} is a batch without rows. */
    void open(Batch start) {
        store.put(START, start.toByteArray());
        store.put(ROWS, count(0));
    }

    /** Adds a row, and for DPO its rejected row (else null), at the next index. */
    void add(BatchRow row, BatchRow rejected) {
        int n = rows();
        store.put(key(ROW, n), row.toByteArray());
        if (rejected != null) {
            store.put(key(REJECTED, n), rejected.toByteArray());
        }
        store.put(ROWS, count(n + 1));
    }

    /** The held rows in order. */
    List<BatchRow> chosenRows() {
        return read(ROW);
    }

    /** DPO: the held rejected rows in order (none for the other stages). */
    List<BatchRow> rejectedRows() {
        return read(REJECTED);
    }

    /** Deletes the open batch (it was sent). */
    void clear() {
        int n = rows();
        for (int i = 0; i < n; i++) {
            store.delete(key(ROW, i));
            store.delete(key(REJECTED, i));
        }
        store.delete(ROWS);
        store.delete(START);
    }

    private List<BatchRow> read(String prefix) {
        int n = rows();
        List<BatchRow> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            byte[] bytes = store.get(key(prefix, i));
            if (bytes != null) {
                rows.add(parseRow(bytes, key(prefix, i)));
            }
        }
        return rows;
    }

    /** An open batch written whole by an earlier version becomes entries (once; the old key is deleted). */
    private void splitWhole() {
        byte[] bytes = store.get(WHOLE);
        if (bytes == null) {
            return;
        }
        Batch whole = parse(bytes, WHOLE);
        store.delete(WHOLE);
        open(whole.toBuilder().clearRows().clearRejectedRows().build());
        for (int i = 0; i < whole.getRowsCount(); i++) {
            add(whole.getRows(i), i < whole.getRejectedRowsCount() ? whole.getRejectedRows(i) : null);
        }
    }

    private static String key(String prefix, int index) {
        return prefix + String.format("%06d", index);
    }

    private static byte[] count(int n) {
        return ByteBuffer.allocate(Integer.BYTES).putInt(n).array();
    }

    private static BatchRow parseRow(byte[] bytes, String key) {
        try {
            return BatchRow.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the open batch entry " + key + " in the state store is unreadable", e);
        }
    }

    private static Batch parse(byte[] bytes, String key) {
        try {
            return Batch.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("the open batch entry " + key + " in the state store is unreadable", e);
        }
    }
}
